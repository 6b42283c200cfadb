"""Refreshing US listings from the SEC's company tickers file (``company_tickers_exchange.json``).

The SEC answers 403 to requests without a User-Agent naming a contact, so the refresh refuses to start when
``network.contact_email`` is empty. Both published shapes are understood: the ``fields``/``data`` table of
``company_tickers_exchange.json`` and the ``{"0": {"cik_str", "ticker", "title"}}`` map of ``company_tickers.json``
(which has no exchange, so it can only add aliases to listings we already hold). The client is passed in, so
tests use ``httpx.MockTransport`` and production a real client built from settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import NetworkSettings
from monitor.errors import ConfigError, FeedUnavailable
from monitor.logs import get_logger
from monitor.matching.csv_files import SYMBOL_PATTERN
from monitor.matching.store import save_securities
from monitor.models import Security

log = get_logger(__name__)

# SEC exchange label -> ISO 10383 MIC. Everything on these venues trades on the NYSE calendar (XNYS).
EXCHANGE_MICS: dict[str, str] = {
    "nasdaq": "XNAS",
    "nyse": "XNYS",
    "nyse american": "XASE",
    "nyse mkt": "XASE",
    "nyse arca": "ARCX",
    "cboe": "BATS",
    "otc": "OTCM",
}
US_BENCHMARK = "^GSPC"


@dataclass(frozen=True)
class SecListing:
    cik: int
    ticker: str
    title: str
    exchange: str | None


@dataclass(frozen=True)
class SecParse:
    listings: list[SecListing]
    malformed: int


def parse_company_tickers(payload: Any) -> SecParse:
    """Both SEC shapes into listings; malformed records are counted, never fatal."""
    listings: list[SecListing] = []
    malformed = 0
    if isinstance(payload, dict) and isinstance(payload.get("fields"), list) and isinstance(payload.get("data"), list):
        fields = [str(name) for name in payload["fields"]]
        for record in payload["data"]:
            if not isinstance(record, list) or len(record) != len(fields):
                malformed += 1
                continue
            listing = _listing(dict(zip(fields, record, strict=True)))
            if listing is None:
                malformed += 1
            else:
                listings.append(listing)
    elif isinstance(payload, dict):
        for record in payload.values():
            listing = _listing(record) if isinstance(record, dict) else None
            if listing is None:
                malformed += 1
            else:
                listings.append(listing)
    else:
        raise FeedUnavailable("SEC company tickers: expected a JSON object, got " + type(payload).__name__)
    return SecParse(listings, malformed)


def _listing(record: dict[str, Any]) -> SecListing | None:
    cik = record.get("cik", record.get("cik_str"))
    ticker = record.get("ticker")
    title = record.get("name", record.get("title"))
    exchange = record.get("exchange")
    if not isinstance(cik, int) or not isinstance(ticker, str) or not isinstance(title, str):
        return None
    if not ticker.strip() or not title.strip():
        return None
    return SecListing(
        cik, ticker.strip().upper(), " ".join(title.split()), exchange if isinstance(exchange, str) else None
    )


def to_securities(listings: list[SecListing], *, include_otc: bool = False) -> tuple[list[Security], dict[str, int]]:
    """Listings on known US venues as securities; returns them with counts of what was skipped and why."""
    skipped = {"no_exchange": 0, "otc": 0, "unknown_exchange": 0, "bad_ticker": 0, "duplicate": 0}
    found: dict[str, Security] = {}
    for listing in listings:
        if not listing.exchange:
            skipped["no_exchange"] += 1
            continue
        mic = EXCHANGE_MICS.get(listing.exchange.strip().lower())
        if mic is None:
            skipped["unknown_exchange"] += 1
            continue
        if mic == "OTCM" and not include_otc:
            skipped["otc"] += 1
            continue
        if not SYMBOL_PATTERN.match(listing.ticker):
            skipped["bad_ticker"] += 1
            continue
        if listing.ticker in found:
            skipped["duplicate"] += 1
            continue
        # The SEC file gives no issuer country: US (the registration jurisdiction) until a curated row says otherwise.
        found[listing.ticker] = Security(
            symbol=listing.ticker,
            issuer_name=listing.title,
            exchange_mic=mic,
            country="US",
            currency="USD",
            benchmark=US_BENCHMARK,
        )
    return list(found.values()), skipped


def fetch_company_tickers(
    client: httpx.Client, url: str, network: NetworkSettings, *, sleep: Callable[[float], None] = time.sleep
) -> Any:
    """GET the SEC file with a contact User-Agent, retrying timeouts, 429 and 5xx with backoff."""
    if not network.contact_email.strip():
        raise ConfigError(
            "the SEC refuses requests without a contact address in the User-Agent; "
            "set MONITOR_NETWORK__CONTACT_EMAIL (or [network] contact_email) to your e-mail address",
            setting="network.contact_email",
        )
    headers = {"User-Agent": network.user_agent, "Accept": "application/json"}
    attempt = 0
    while True:
        retry_after: str | None = None
        try:
            response = client.get(url, headers=headers, timeout=network.timeout_seconds)
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError as exc:
                    raise FeedUnavailable(f"SEC company tickers at {url}: not JSON ({exc})", url=url) from exc
            if response.status_code == 403:
                raise ConfigError(
                    f"the SEC refused {url} (403); check that network.contact_email is a real address",
                    setting="network.contact_email",
                )
            problem = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                raise FeedUnavailable(f"SEC company tickers at {url}: {problem}", url=url)
            retry_after = response.headers.get("Retry-After")
        if attempt >= network.max_retries:
            raise FeedUnavailable(f"SEC company tickers at {url}: {problem} after {attempt + 1} attempts", url=url)
        delay = min(network.backoff_max_seconds, network.backoff_base_seconds * 2**attempt)
        if retry_after is not None and retry_after.isdigit():
            delay = min(network.backoff_max_seconds, float(retry_after))
        log.warning("sec_tickers_retry", url=url, problem=problem, attempt=attempt + 1, delay_seconds=delay)
        sleep(delay)
        attempt += 1


@dataclass(frozen=True)
class SecRefreshReport:
    fetched: int
    securities: int  # listings on known venues, inserted or refreshed
    aliases_added: int  # SEC titles added as aliases to listings already held (no-exchange file)
    malformed: int
    skipped: dict[str, int]


def refresh_from_sec(
    session: Session,
    client: httpx.Client,
    url: str,
    network: NetworkSettings,
    *,
    include_otc: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> SecRefreshReport:
    """Fetch the SEC file and upsert its listings; curated fields of listings we already hold are kept."""
    from monitor.db.tables import SecurityAlias, SecurityRow
    from monitor.db.upsert import upsert

    parsed = parse_company_tickers(fetch_company_tickers(client, url, network, sleep=sleep))
    securities, skipped = to_securities(parsed.listings, include_otc=include_otc)
    written = save_securities(session, securities, source="sec", keep_curated=True)
    titles = {listing.ticker: listing.title for listing in parsed.listings if not listing.exchange}
    aliases: list[dict[str, Any]] = []
    if titles:
        held = session.execute(select(SecurityRow.id, SecurityRow.symbol, SecurityRow.issuer_name))
        aliases = [
            {"security_id": ident, "alias": titles[symbol]}
            for ident, symbol, name in held
            if symbol in titles and titles[symbol] != name
        ]
    added = upsert(session, SecurityAlias, aliases, key=["security_id", "alias"], do_nothing=True)
    report = SecRefreshReport(len(parsed.listings), written, added, parsed.malformed, skipped)
    log.info("sec_refresh_done", fetched=report.fetched, securities=written, aliases_added=added, **skipped)
    return report
