"""FinanceDatabase's equity lists (JerBouma/FinanceDatabase, MIT) as listings: the market-scale universe we ship.

The files (``database/equities/{SHH,SHZ,HKG}.csv``) give a Yahoo symbol, an English name, the MIC, the issuer's
country and, for some rows, an ISIN; they give no Chinese names, former names or listing dates (the exchanges' own
lists do, ``exchange_lists.py``). Funds and bonds share the mainland files, so rows are kept by share-code range;
rows flagged delisted are skipped, since the file does not say when they left the market.

``build_shipped`` writes ``data/market_universe.csv`` (securities format) from the three files; the package ships
that file with FinanceDatabase's licence beside it, and ``store.apply_market`` loads it into an empty universe
under the curated seed (curated rows win).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import InputError
from monitor.matching.listings import ListedCompany, clean_name, is_share, yahoo_symbol
from monitor.models import Security

FILES = ("SHH.csv", "SHZ.csv", "HKG.csv")
REQUIRED = ("symbol", "name", "mic", "country", "isin", "delisted")
_COUNTRIES = {"china": "CN", "hong kong": "HK", "macau": "MO", "macao": "MO", "taiwan": "TW"}


@dataclass(frozen=True)
class FinanceDatabaseParse:
    companies: list[ListedCompany]
    skipped: dict[str, int]


def _country(symbol: str, value: str) -> str | None:
    """The issuer's country: mainland A/B shares are Chinese issuers whatever the file's address says."""
    if symbol.endswith((".SS", ".SZ")):
        return "CN"
    key = value.strip().casefold()
    if not key:
        return None
    if key in _COUNTRIES:
        return _COUNTRIES[key]
    import pycountry

    try:
        found = pycountry.countries.lookup(value.strip())
    except LookupError:
        return None
    return str(found.alpha_2)


def parse_equities(text: str, source: str) -> FinanceDatabaseParse:
    """One FinanceDatabase equities file: shares still listed, as ``ListedCompany`` rows; the rest counted."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in REQUIRED if column not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{source}: not a FinanceDatabase equities file (missing {', '.join(missing)})")
    skipped = {"delisted": 0, "not_a_share": 0, "no_name": 0}
    companies: list[ListedCompany] = []
    for row in reader:
        symbol = (row["symbol"] or "").strip().upper()
        if symbol.endswith(".HK"):
            symbol = yahoo_symbol(symbol[:-3], ".HK")  # "924.HK" -> "0924.HK", Yahoo's four digits
        if (row.get("delisted") or "").strip().lower() == "true":
            skipped["delisted"] += 1
        elif not is_share(symbol):
            skipped["not_a_share"] += 1
        elif not (row["name"] or "").strip():
            skipped["no_name"] += 1
        else:
            companies.append(
                ListedCompany(
                    symbol=symbol,
                    name=clean_name(row["name"]),
                    country=_country(symbol, row.get("country") or ""),
                    isin=(row.get("isin") or "").strip() or None,
                )
            )
    return FinanceDatabaseParse(companies, skipped)


def read_directory(directory: Path) -> FinanceDatabaseParse:
    """The three exchange files of a FinanceDatabase checkout (or of ``../shared/data/universe/financedatabase``)."""
    companies: list[ListedCompany] = []
    skipped: dict[str, int] = {}
    for name in FILES:
        path = directory / name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file; expected {', '.join(FILES)} in {directory}") from None
        parsed = parse_equities(text, str(path))
        companies += parsed.companies
        for why, count in parsed.skipped.items():
            skipped[why] = skipped.get(why, 0) + count
    return FinanceDatabaseParse(companies, skipped)


def shipped_rows(securities: list[Security], isins: dict[str, str]) -> str:
    """The securities format, with the ISIN column the GLEIF refresh links listings by."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["issuer_name", "aliases", "ticker", "exchange_mic", "country", "currency", "benchmark", "isin"])
    for security in sorted(securities, key=lambda s: s.symbol):
        writer.writerow(
            [
                security.issuer_name,
                "|".join(security.aliases),
                security.symbol,
                security.exchange_mic,
                security.country,
                security.currency,
                security.benchmark,
                isins.get(security.symbol, ""),
            ]
        )
    return out.getvalue()
