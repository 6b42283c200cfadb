"""Listings from public lists (exchanges, FinanceDatabase) as universe securities: one shape, cleaned names.

Every adapter reads its source into ``ListedCompany`` rows (symbol, names, dates, ISIN) and ``to_securities`` turns
them into ``Security`` records with the exchange's MIC, currency and local benchmark from ``prices.exchanges``. The
store imports them with ``keep_curated``: a curated row keeps its fields, the list's name becomes an alias.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from monitor.models import Security
from monitor.prices.exchanges import EXCHANGES

# Mainland share codes by board: Shanghai 600/601/603/605 main, 688/689 STAR, 900 B; Shenzhen 000-003 main,
# 300/301 ChiNext, 200 B. Funds, bonds and repos share the exchanges' lists and code space, so codes decide.
_SHARE_CODE = {
    ".SS": re.compile(r"^(60[0135]|68[89]|900)\d{3}$"),
    ".SZ": re.compile(r"^(00[0-3]|30[01]|200)\d{3}$"),
    ".HK": re.compile(r"^\d{4,5}$"),
}
_SHARE_CLASS = re.compile(r"\s*\b(?:Class [A-Z]|[AH] Shares?)\s*$", re.IGNORECASE)
_BY_SUFFIX = {exchange.suffix: exchange for exchange in EXCHANGES}
CHINA_REGION = {"CN", "HK", "MO"}


@dataclass(frozen=True)
class ListedCompany:
    """One listing as a public list gives it; names in the order the source ranks them (English legal first)."""

    symbol: str  # Yahoo style: 603019.SS, 0981.HK
    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None  # ISO 3166 alpha-2 of the issuer, when the list says
    listed_on: date | None = None
    delisted_on: date | None = None
    isin: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def clean_name(name: str) -> str:
    """A list's name without share-class tails ("IEIT SYSTEMS Co., Ltd.Class A") and doubled spaces."""
    cleaned = _SHARE_CLASS.sub("", " ".join(name.split()))
    return cleaned.replace(".Class", ".").strip() or name.strip()


def is_share(symbol: str) -> bool:
    """A share of a company (not a fund, bond or warrant) by its exchange's code ranges."""
    code, dot, suffix = symbol.rpartition(".")
    pattern = _SHARE_CODE.get(dot + suffix)
    return bool(pattern and pattern.match(code))


def yahoo_symbol(code: str, suffix: str) -> str:
    """An exchange code as a Yahoo symbol: 603019 → 603019.SS, 00981 or 981 → 0981.HK."""
    code = code.strip()
    if suffix == ".HK":
        code = code.lstrip("0").zfill(4)
    return f"{code}{suffix}"


def to_securities(companies: Iterable[ListedCompany]) -> list[Security]:
    """Securities for listings on exchanges the product knows; other suffixes are skipped (no calendar for them)."""
    found: dict[str, Security] = {}
    for company in companies:
        suffix = "." + company.symbol.rpartition(".")[2] if "." in company.symbol else ""
        exchange = _BY_SUFFIX.get(suffix)
        if exchange is None or company.symbol in found:
            continue
        name = clean_name(company.name)
        aliases = tuple(dict.fromkeys(clean_name(alias) for alias in company.aliases if alias.strip()))
        found[company.symbol] = Security(
            symbol=company.symbol,
            issuer_name=name,
            aliases=tuple(alias for alias in aliases if alias != name),
            exchange_mic=exchange.mic,
            country=company.country or ("HK" if suffix == ".HK" else "CN"),
            currency=exchange.currency,
            benchmark=exchange.benchmark,
            listed_on=company.listed_on,
            delisted_on=company.delisted_on,
        )
    return list(found.values())
