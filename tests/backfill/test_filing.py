"""Recovering filing times from public inspection, and the documents search limited to a range."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.backfill.filing import fill_filing_times, posting_days_before
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables import Document
from monitor.feeds.wiring import build_clients, build_poller
from tests.backfill.conftest import FEEDS

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_posting_days_skip_weekends_and_federal_holidays() -> None:
    # Published Tue 2019-05-28, the day after Memorial Day: the issues before are Fri 05-24, Thu 05-23 …
    assert posting_days_before(date(2019, 5, 28), 3) == [date(2019, 5, 24), date(2019, 5, 23), date(2019, 5, 22)]


def test_a_filing_is_found_and_stored_and_a_failing_day_is_reported(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    with sessions.begin() as session:
        for number in ("2019-10616", "2099-00001"):
            session.add(
                Document(
                    document_number=number, source="fr", title="Addition of Entities to the Entity List",
                    publication_date=date(2019, 5, 21) if number == "2019-10616" else date(2019, 6, 3),
                    first_seen_at=NOW, is_entity_list=True, parse_status="parsed", agencies=[], raw={},
                )
            )  # fmt: skip
    with sessions() as session:
        ids = {d.document_number: d.id for d in session.scalars(select(Document))}
    clients = build_clients(settings, source=f"dir:{FEEDS}", sleep=lambda _: None)
    lookup = fill_filing_times(
        sessions,
        clients.federal_register,
        [(ids["2019-10616"], "2019-10616", date(2019, 5, 21)), (ids["2099-00001"], "2099-00001", date(2019, 6, 3))],
        now=NOW,
    )
    assert lookup.found == {"2019-10616": datetime(2019, 5, 16, 12, 45, tzinfo=UTC)}
    assert lookup.not_found == ["2099-00001"]
    assert lookup.requests == 3 + 5  # 05-20, 05-17, then 05-16 has it; five empty days for the other
    with sessions() as session:
        huawei = session.scalars(select(Document).where(Document.document_number == "2019-10616")).one()
        assert huawei.filed_at == datetime(2019, 5, 16, 12, 45, tzinfo=UTC)
        assert huawei.filing_type == "special"
        assert huawei.publication_date == date(2019, 5, 21)  # the published record's facts are kept

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, request=request)

    down = build_clients(settings, transport=httpx.MockTransport(broken), sleep=lambda _: None)
    failed = fill_filing_times(
        sessions, down.federal_register, [(ids["2099-00001"], "2099-00001", date(2019, 6, 3))], now=NOW
    )
    assert set(failed.errors) == {"2099-00001"}
    assert "public inspection lookup failed" in failed.errors["2099-00001"]


def test_the_documents_search_is_bounded_by_until(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=json.dumps({"count": 0, "results": []}).encode())

    settings = Settings(data_dir=tmp_path)
    clock = SimulatedClock(NOW)
    clients = build_clients(settings, transport=httpx.MockTransport(handler), clock=clock, sleep=lambda _: None)
    build_poller(settings, sessions, clock, clients).poll_documents(since=date(2019, 1, 1), until=date(2019, 12, 31))
    query = seen[0].params
    assert query.get("conditions[publication_date][gte]") == "2019-01-01"
    assert query.get("conditions[publication_date][lte]") == "2019-12-31"
    assert query.get("per_page") == str(settings.feeds.backfill_per_page)
