"""Polling end to end on SQLite and PostgreSQL: merging PI and published versions, quiet polls, failures, CSL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import SimulatedClock
from monitor.db.tables.documents import CslEntry, Document, FeedState, ListingActionRow
from monitor.errors import FeedUnavailable
from monitor.feeds import store
from monitor.feeds.classify import Classification
from monitor.feeds.extraction import ExtractionOutcome
from monitor.feeds.poll import FeedPoller
from monitor.feeds.wiring import build_clients, build_poller
from monitor.models import ActionKind, FeedName, ListingAction, ParseStatus, RegulatoryDocument
from tests.feeds.conftest import FEEDS, RULE_2019, Sleeps, at, fast_settings, load_json
from tests.feeds.test_raw_text import rule_2019_as_text

Sessions = sessionmaker[Session]


def poller_for(
    sessions: Sessions,
    clock: SimulatedClock,
    *,
    source: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> FeedPoller:
    settings = fast_settings()
    clients = build_clients(settings, source=source, transport=transport, sleep=Sleeps(), clock=clock)
    return build_poller(settings, sessions, clock, clients)


def replay_dir(tmp_path: Path) -> Path:
    """The 2019 directory plus a PI raw text (SYNTHETIC: the rule's XML with tags stripped)."""
    directory = tmp_path / "saved"
    shutil.copytree(RULE_2019, directory)
    (directory / "public_inspection_2019-22210.txt").write_text(rule_2019_as_text(), encoding="utf-8")
    return directory


def test_2019_rule_from_public_inspection_to_publication(sessions: Sessions, tmp_path: Path) -> None:
    clock = SimulatedClock(at("2019-10-07T17:20:00-04:00"))
    poller = poller_for(sessions, clock, source=f"dir:{replay_dir(tmp_path)}")

    filed = poller.poll_public_inspection(since=date(2019, 10, 7))
    (early,) = filed.arrivals
    assert (early.document_number, early.created, early.is_entity_list) == ("2019-22210", True, True)
    assert early.parse_status is ParseStatus.TEXT_FALLBACK
    assert len(early.listing_actions) == 28
    assert {a.country for a in early.listing_actions} == {"China"}

    clock.set(at("2019-10-09T06:05:00-04:00"))
    published = poller.poll_documents()
    by_number = {arrival.document_number: arrival for arrival in published.arrivals}
    rule = by_number["2019-22210"]
    assert (rule.created, rule.parse_status, len(rule.listing_actions)) == (False, ParseStatus.PARSED, 28)
    assert {a.country for a in rule.listing_actions} == {"CHINA, PEOPLE'S REPUBLIC OF"}  # XML replaced the text
    other = by_number["2019-13245"]  # no saved record or XML for it: stored failed, still an arrival
    assert other.is_entity_list
    assert other.parse_status is ParseStatus.FAILED
    assert other.parse_error is not None
    assert "not saved" in other.parse_error

    with sessions() as session:
        row = session.execute(select(Document).where(Document.document_number == "2019-22210")).scalar_one()
        assert row.source == "pi"
        assert row.first_seen_at == row.pi_seen_at == at("2019-10-07T17:20:00-04:00")
        assert row.published_seen_at == at("2019-10-09T06:05:00-04:00")
        assert row.filed_at == at("2019-10-07T16:15:00-04:00")
        assert (row.citation, row.start_page, row.end_page) == ("84 FR 54002", 54002, 54009)
        assert set(row.raw) == {"pi", "fr"}
        count = session.execute(select(func.count()).select_from(ListingActionRow)).scalar_one()
        assert count == 28
        assert session.execute(select(func.count()).select_from(Document)).scalar_one() == 2

    again = poller.poll_documents()
    assert (again.requests, again.arrivals) == (1, ())
    quiet_pi = poller.poll_public_inspection()
    assert (quiet_pi.requests, quiet_pi.arrivals) == (1, ())


def routes(table: dict[str, Callable[[httpx.Request], httpx.Response]]) -> httpx.MockTransport:
    calls: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        for suffix, answer in table.items():
            if request.url.path.endswith(suffix):
                calls[suffix] = calls.get(suffix, 0) + 1
                return answer(request)
        return httpx.Response(404, json={"status": 404, "message": "Record Not Found"})

    transport = httpx.MockTransport(handler)
    transport.calls = calls  # type: ignore[attr-defined]
    return transport


def bis_search(*numbers: str, xml: bool = True) -> dict[str, Any]:
    results = [
        {
            "document_number": number,
            "title": "Additions to the Entity List",
            "type": "Rule",
            "publication_date": "2030-01-02",
            "agencies": [{"raw_name": "Bureau of Industry and Security", "slug": "industry-and-security-bureau"}],
            "html_url": f"https://www.federalregister.gov/d/{number}",
            "full_text_xml_url": f"https://www.federalregister.gov/documents/full_text/xml/2030/01/02/{number}.xml"
            if xml
            else None,
            "raw_text_url": f"https://www.federalregister.gov/documents/full_text/text/2030/01/02/{number}.txt",
        }
        for number in numbers
    ]
    return {"count": len(results), "description": "Documents", "total_pages": 1, "results": results}


def test_quiet_poll_costs_one_request_per_feed(sessions: Sessions) -> None:
    csv = (FEEDS / "csl_us_consolidated_sample.csv").read_bytes()
    pi = load_json(FEEDS / "fr_api_public_inspection_current_2026-10-02_trimmed.json")
    rule = (RULE_2019 / "2019-22210.xml").read_bytes()

    def csl(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=csv, headers={"ETag": '"v1"', "Content-Type": "text/csv"})

    transport = routes(
        {
            "/documents.json": lambda r: httpx.Response(200, json=bis_search("2030-00002", "2030-00001")),
            ".xml": lambda r: httpx.Response(200, content=rule),
            "/current.json": lambda r: httpx.Response(200, json=pi),
            "/consolidated.json": csl,
        }
    )
    clock = SimulatedClock(at("2030-01-02T12:00:00+00:00"))
    poller = poller_for(sessions, clock, transport=transport)
    first = [poller.poll(feed) for feed in FeedName]
    assert [len(result.arrivals) for result in first] == [2, 0, 0]  # CSL's first snapshot is only a baseline
    assert first[2].csl_diff is not None
    assert len(first[2].csl_diff.new) == 13
    second = [poller.poll(feed) for feed in FeedName]
    assert [result.requests for result in second] == [1, 1, 1]
    assert all(result.arrivals == () for result in second)
    with sessions() as session:
        states = {row.feed: row for row in session.execute(select(FeedState)).scalars()}
        assert set(states) == {"fr", "pi", "csl"}
        assert states["csl"].cursor["etag"] == '"v1"'
        assert all(state.consecutive_failures == 0 for state in states.values())


def test_fetch_failure_stays_pending_then_is_retried(sessions: Sessions) -> None:
    rule = (RULE_2019 / "2019-22210.xml").read_bytes()
    outage = {"on": True}

    def xml(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503) if outage["on"] else httpx.Response(200, content=rule)

    transport = routes(
        {
            "/documents.json": lambda r: httpx.Response(200, json=bis_search("2030-00001")),
            ".xml": xml,
            ".txt": lambda r: httpx.Response(503),
        }
    )
    poller = poller_for(sessions, SimulatedClock(at("2030-01-02T12:00:00+00:00")), transport=transport)
    (arrival,) = poller.poll_documents().arrivals
    assert arrival.is_entity_list
    assert arrival.parse_status is ParseStatus.PENDING
    assert arrival.parse_error is not None
    assert "HTTP 503" in arrival.parse_error
    outage["on"] = False
    poller.poll_documents()
    with sessions() as session:
        row = session.execute(select(Document)).scalar_one()
        assert row.parse_status == "parsed"
        assert row.raw["extraction_attempts"] == 1
        assert len(store.load_listing_actions(session, row.id)) == 28


def test_unparseable_rule_is_stored_failed_and_still_arrives(sessions: Sessions) -> None:
    transport = routes(
        {
            "/documents.json": lambda r: httpx.Response(200, json=bis_search("2030-00009")),
            ".xml": lambda r: httpx.Response(200, content=b"<RULE><REGTEXT PART='744'><broken"),
            ".txt": lambda r: httpx.Response(200, text="This rule amends the EAR."),
        }
    )
    poller = poller_for(sessions, SimulatedClock(at("2030-01-02T12:00:00+00:00")), transport=transport)
    (arrival,) = poller.poll_documents().arrivals
    assert (arrival.is_entity_list, arrival.parse_status, arrival.listing_actions) == (True, ParseStatus.FAILED, ())
    assert arrival.title == "Additions to the Entity List"
    assert arrival.html_url == "https://www.federalregister.gov/d/2030-00009"
    assert arrival.parse_error is not None
    assert "not well-formed" in arrival.parse_error


def test_feed_failures_are_counted_and_reset(sessions: Sessions) -> None:
    healthy = {"on": False}

    def search(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"count": 0, "description": "x"}) if healthy["on"] else httpx.Response(500)

    poller = poller_for(
        sessions, SimulatedClock(at("2030-01-02T12:00:00+00:00")), transport=routes({"/documents.json": search})
    )
    for expected in (1, 2):
        with pytest.raises(FeedUnavailable):
            poller.poll_documents()
        with sessions() as session:
            state = store.read_feed_state(session, FeedName.DOCUMENTS)
            assert state.consecutive_failures == expected
            assert state.last_error is not None
            assert "HTTP 500" in state.last_error
    healthy["on"] = True
    poller.poll_documents()
    with sessions() as session:
        state = store.read_feed_state(session, FeedName.DOCUMENTS)
        assert (state.consecutive_failures, state.last_error) == (0, None)


CSL_EL = {
    "_id": "e1",
    "source": "Entity List (EL) - Bureau of Industry and Security",
    "name": "Omega Photonics Co., Ltd.",
    "addresses": "No. 9 Example Road, Suzhou, Jiangsu, CN",
    "federal_register_notice": "95 FR 1234",
    "start_date": "2030-01-02",
    "alt_names": "Omega; and OPC",
}


def csl_csv(*rows: dict[str, str]) -> bytes:
    header = (FEEDS / "csl_us_consolidated_sample.csv").read_text().splitlines()[0]
    columns = header.split(",")
    lines = [header] + [",".join(json.dumps(row.get(c, "")) for c in columns) for row in rows]
    return "\n".join(lines).encode()


def test_csl_new_entity_list_row_without_a_rule_becomes_a_listing(sessions: Sessions) -> None:
    snapshot = {"body": csl_csv({**CSL_EL, "_id": "e0", "name": "Old Listing", "start_date": "2018-01-01"})}
    transport = routes({"/consolidated.csv": lambda r: httpx.Response(200, content=snapshot["body"])})
    clock = SimulatedClock(at("2030-01-03T12:00:00+00:00"))
    settings = fast_settings(csl_url="https://csl.test/consolidated.csv")
    clients = build_clients(settings, transport=transport, sleep=Sleeps(), clock=clock)
    poller = build_poller(settings, sessions, clock, clients)
    assert poller.poll_csl().arrivals == ()  # baseline

    covered = {**CSL_EL, "_id": "e2", "name": "Covered Co.", "federal_register_notice": "95 FR 1300"}
    stale = {**CSL_EL, "_id": "e3", "name": "Re-keyed Old Entry", "start_date": "2019-05-01"}
    with sessions.begin() as session:
        rule = RegulatoryDocument(
            document_number="2030-00100",
            source=FeedName.DOCUMENTS,
            title="Additions",
            agencies=("industry-and-security-bureau",),
            citation="95 FR 1290",
            start_page=1290,
            end_page=1310,
        )
        store.save_document(
            session,
            rule,
            feed=FeedName.DOCUMENTS,
            seen_at=clock.now(),
            classification=Classification(True, True, "test"),
        )
    snapshot["body"] = csl_csv(CSL_EL, covered, stale)
    clock.set(at("2030-01-03T15:00:00+00:00"))
    result = poller.poll_csl()
    (arrival,) = result.arrivals
    assert arrival.document_number == "CSL-e1"
    assert arrival.feed is FeedName.CSL
    assert arrival.is_entity_list
    assert arrival.parse_status is ParseStatus.PARSED
    (action,) = arrival.listing_actions
    assert (action.action, action.entity_name, action.aliases, action.country_iso, action.source) == (
        ActionKind.ADD,
        "Omega Photonics Co., Ltd.",
        ("Omega", "OPC"),
        "CN",
        FeedName.CSL,
    )
    assert result.csl_diff is not None
    assert result.csl_diff.removed == ("e0",)
    assert any("Re-keyed Old Entry" in note for note in result.notes)
    with sessions() as session:
        removed = session.execute(select(CslEntry).where(CslEntry.entry_id == "e0")).scalar_one()
        assert removed.removed_at == at("2030-01-03T15:00:00+00:00")
        assert session.execute(select(func.count()).select_from(CslEntry)).scalar_one() == 4


def test_published_version_wins_and_flags_are_sticky(sessions: Sessions) -> None:
    t0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
    published = RegulatoryDocument(
        document_number="2030-7",
        source=FeedName.DOCUMENTS,
        title="Revisions to the Entity List",
        agencies=("industry-and-security-bureau",),
        publication_date=date(2030, 1, 3),
    )
    pi = RegulatoryDocument(
        document_number="2030-7",
        source=FeedName.PUBLIC_INSPECTION,
        title="Export Administration Regulations: Entity List",
        filing_type="special",
        filed_at=at("2030-01-01T16:15:00-05:00"),
        agencies=("industry-and-security-bureau",),
    )
    with sessions.begin() as session:
        first = store.save_document(
            session,
            published,
            feed=FeedName.DOCUMENTS,
            seen_at=t0,
            classification=Classification(True, True, "published"),
        )
        late_pi = store.save_document(
            session,
            pi,
            feed=FeedName.PUBLIC_INSPECTION,
            seen_at=t0.replace(hour=13),
            classification=Classification(True, False, "pi"),
        )
        repeat = store.save_document(
            session,
            pi,
            feed=FeedName.PUBLIC_INSPECTION,
            seen_at=t0.replace(hour=14),
            classification=Classification(True, False, "pi"),
        )
    assert (first.created, late_pi.created, late_pi.newly_on_feed, repeat.newly_on_feed) == (True, False, True, False)
    assert late_pi.is_entity_list  # never unflagged
    assert late_pi.title == "Revisions to the Entity List"  # a PI ToC subject never overwrites the published title
    with sessions.begin() as session:
        row = session.execute(select(Document)).scalar_one()
        assert (row.filed_at, row.filing_type) == (at("2030-01-01T16:15:00-05:00"), "special")
        assert (row.first_seen_at, row.pi_seen_at) == (t0, t0.replace(hour=13))
        xml_actions = (ListingAction(action=ActionKind.REVISE, entity_name="Acme", country="IRAN"),)
        assert store.save_extraction(session, row.id, ExtractionOutcome(ParseStatus.PARSED, xml_actions))
        text_actions = (ListingAction(action=ActionKind.ADD, entity_name="Acme", country="Iran"),)
        assert not store.save_extraction(session, row.id, ExtractionOutcome(ParseStatus.TEXT_FALLBACK, text_actions))
        assert store.load_listing_actions(session, row.id) == xml_actions
