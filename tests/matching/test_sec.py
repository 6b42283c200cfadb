"""SEC company tickers refresh, offline: httpx.MockTransport serving the SEC's two published shapes."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NetworkSettings, Settings
from monitor.db.tables import SecurityAlias, SecurityRow
from monitor.errors import ConfigError, FeedUnavailable
from monitor.matching.sec import fetch_company_tickers, parse_company_tickers, refresh_from_sec, to_securities
from monitor.matching.store import ensure_seed_universe
from tests.conftest import FIXTURES

EXCHANGE_FILE = FIXTURES / "matching" / "company_tickers_exchange.json"
PLAIN_FILE = FIXTURES / "matching" / "company_tickers.json"
URL = Settings().sec_tickers_url
NETWORK = NetworkSettings(contact_email="desk@example.com", max_retries=2, backoff_base_seconds=0.5)


def serving(body: bytes, seen: list[httpx.Request], statuses: tuple[int, ...] = ()) -> httpx.Client:
    replies = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = replies.pop(0) if replies else 200
        if status != 200:
            return httpx.Response(status, headers={"Retry-After": "3"} if status == 429 else {}, text="slow down")
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def no_sleep(log: list[float]) -> Callable[[float], None]:
    return log.append


def test_parses_the_exchange_table_and_counts_malformed_rows() -> None:
    parsed = parse_company_tickers(json.loads(EXCHANGE_FILE.read_text()))
    assert parsed.malformed == 1
    assert parsed.listings[0].ticker == "NVDA"
    assert parsed.listings[0].exchange == "Nasdaq"
    securities, skipped = to_securities(parsed.listings)
    assert {s.symbol: s.exchange_mic for s in securities} == {
        "NVDA": "XNAS",
        "INTC": "XNAS",
        "AMBA": "XNAS",
        "WDC": "XNAS",
        "STX": "XNAS",
        "DQ": "XNYS",
        "BRK-B": "XNYS",
        "SONY": "XNYS",
        "RENN": "BATS",
    }
    assert skipped["otc"] == 1
    assert skipped["no_exchange"] == 1
    with_otc, _ = to_securities(parsed.listings, include_otc=True)
    assert "HKVTY" in {s.symbol for s in with_otc}


def test_parses_the_plain_ticker_map() -> None:
    parsed = parse_company_tickers(json.loads(PLAIN_FILE.read_text()))
    assert [(listing.ticker, listing.exchange) for listing in parsed.listings] == [
        ("NVDA", None),
        ("AMBA", None),
        ("AAPL", None),
    ]
    assert parsed.malformed == 1


def test_refuses_to_call_the_sec_without_a_contact_address() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(ConfigError, match=r"network\.contact_email: the SEC refuses requests without a contact"):
        fetch_company_tickers(serving(b"{}", seen), URL, NetworkSettings())
    assert seen == []


def test_user_agent_carries_the_contact_address() -> None:
    seen: list[httpx.Request] = []
    fetch_company_tickers(serving(EXCHANGE_FILE.read_bytes(), seen), URL, NETWORK)
    assert "desk@example.com" in seen[0].headers["User-Agent"]
    assert str(seen[0].url) == "https://www.sec.gov/files/company_tickers_exchange.json"


def test_retries_rate_limits_and_server_errors_with_backoff() -> None:
    seen: list[httpx.Request] = []
    slept: list[float] = []
    payload = fetch_company_tickers(
        serving(EXCHANGE_FILE.read_bytes(), seen, (503, 429)), URL, NETWORK, sleep=no_sleep(slept)
    )
    assert len(seen) == 3
    assert slept == [0.5, 3.0]  # doubling backoff, then the server's Retry-After
    assert payload["fields"] == ["cik", "name", "ticker", "exchange"]


def test_gives_up_after_the_configured_retries() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(FeedUnavailable, match="HTTP 503 after 3 attempts"):
        fetch_company_tickers(serving(b"{}", seen, (503, 503, 503)), URL, NETWORK, sleep=no_sleep([]))


def test_forbidden_points_at_the_contact_setting_and_404_is_not_retried() -> None:
    with pytest.raises(ConfigError, match="403"):
        fetch_company_tickers(serving(b"{}", [], (403,)), URL, NETWORK)
    seen: list[httpx.Request] = []
    with pytest.raises(FeedUnavailable, match="HTTP 404"):
        fetch_company_tickers(serving(b"{}", seen, (404,)), URL, NETWORK)
    assert len(seen) == 1


def test_refresh_adds_new_listings_and_keeps_curated_ones(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ensure_seed_universe(session)
        report = refresh_from_sec(session, serving(EXCHANGE_FILE.read_bytes(), []), URL, NETWORK)
    assert (report.fetched, report.securities, report.malformed) == (11, 9, 1)
    with sessions() as session:
        rows = {row.symbol: row for row in session.scalars(select(SecurityRow))}
        assert rows["SONY"].source == "sec"
        assert rows["SONY"].country == "US"
        assert rows["SONY"].benchmark == "^GSPC"
        assert (rows["NVDA"].issuer_name, rows["NVDA"].source) == ("NVIDIA Corporation", "seed")
        aliases = set(session.scalars(select(SecurityAlias.alias).where(SecurityAlias.security_id == rows["NVDA"].id)))
        assert "NVIDIA CORP" in aliases


def test_refresh_from_the_plain_map_only_adds_aliases(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ensure_seed_universe(session)
        report = refresh_from_sec(session, serving(PLAIN_FILE.read_bytes(), []), URL, NETWORK)
        assert (report.securities, report.aliases_added) == (0, 2)
        assert session.execute(select(SecurityRow).where(SecurityRow.symbol == "AAPL")).first() is None
