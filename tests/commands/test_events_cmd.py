"""``monitor events list`` and ``events show`` through the real CLI on the backfilled 2019 rules, and the alert
thread read back from storage (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.cli import main
from monitor.db.tables import AlertDelivery, AlertRow, Document, EventRow, ListingActionRow, Study
from monitor.report.events import list_events, show_event
from tests.report.conftest import Backfilled
from tests.report.conftest import backfilled as backfilled  # the shared backfilled database

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

XINJIANG = "2019-22210"  # 28 entities named by the rule (the Federal Register's own count, 84 FR 54002)
HUAWEI = "2019-10616"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_json_counts_entities_matches_and_studies(
    capsys: pytest.CaptureFixture[str], backfilled: Backfilled
) -> None:
    code, out, err = run(capsys, "--database-url", backfilled.url, "events", "list", "--json")
    assert code == 0, err
    events = json.loads(out)
    assert [e["document_number"] for e in events] == [XINJIANG, HUAWEI]  # newest announcement first
    xinjiang = events[0]
    assert xinjiang["entities"] == 28
    assert (xinjiang["matched"], xinjiang["review"]) == (11, 1)  # as `monitor backfill` reports the rule
    assert xinjiang["announced_at"] == "2019-10-07T20:15:00+00:00"  # 16:15 New York, the shipped override
    assert xinjiang["announced_source"] == "override"
    assert xinjiang["studies"]["complete"] == 9
    assert xinjiang["studies"]["other"] == 2
    assert sum(xinjiang["studies"]["by_status"].values()) == 11  # SenseTime (listed 2021) and 6697.T not studied
    assert xinjiang["last_alert"] is None  # backfilled silently
    with backfilled.sessions() as session:
        for event in events:
            stored = session.execute(
                select(Study.status, func.count())
                .join(EventRow, EventRow.id == Study.event_id)
                .where(EventRow.id == event["event_id"])
                .group_by(Study.status)
            ).all()
            assert event["studies"]["by_status"] == dict(stored)


def test_list_filters_by_date_and_status(capsys: pytest.CaptureFixture[str], backfilled: Backfilled) -> None:
    url = ("--database-url", backfilled.url)
    code, out, _ = run(capsys, *url, "events", "list", "--since", "2019-06-01", "--json")
    assert code == 0
    assert [e["document_number"] for e in json.loads(out)] == [XINJIANG]
    code, out, _ = run(capsys, *url, "events", "list", "--since", "2019-12-01", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(capsys, *url, "events", "list", "--status", "pending", "--json")
    assert (code, json.loads(out)) == (0, [])  # both windows closed long ago
    code, out, _ = run(capsys, *url, "events", "list", "--status", "complete", "--json")
    assert len(json.loads(out)) == 2
    code, _, err = run(capsys, *url, "events", "list", "--status", "done")
    assert code == 2
    assert "--status 'done': expected one of complete, partial, pending, halted, other" in err


def test_list_piped_is_tab_separated(capsys: pytest.CaptureFixture[str], backfilled: Backfilled) -> None:
    code, out, _ = run(capsys, "--database-url", backfilled.url, "events", "list")
    assert code == 0
    header, *rows = [line.split("\t") for line in out.splitlines() if not line.startswith("# ")]
    assert header[:4] == ["#", "rule", "announced", "dated by"]
    assert [row[1] for row in rows] == [XINJIANG, HUAWEI]
    assert rows[0][2:4] == ["2019-10-07 16:15 NY", "override"]
    assert all(len(row) == len(header) for row in rows)


def test_show_json_has_the_rule_entities_matches_studies_and_tests(
    capsys: pytest.CaptureFixture[str], backfilled: Backfilled
) -> None:
    _, out, _ = run(capsys, "--database-url", backfilled.url, "events", "list", "--json")
    number = next(e["event_id"] for e in json.loads(out) if e["document_number"] == XINJIANG)
    code, out, err = run(capsys, "--database-url", backfilled.url, "events", "show", str(number), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["document_number"] == XINJIANG
    assert body["html_url"].startswith("https://www.federalregister.gov/")
    assert len(body["entity_list"]) == 28
    hikvision = next(e for e in body["entity_list"] if e["name"].startswith("Hangzhou Hikvision"))
    assert (hikvision["action"], hikvision["country"]) == ("add", "CN")
    hikvision_matches = {(m["symbol"], m["relation"]) for m in body["matches"] if m["entity"] == hikvision["name"]}
    assert ("002415.SZ", "direct") in hikvision_matches
    assert all(m["reason"] for m in body["matches"])  # every match explains itself
    studies = {s["symbol"]: s for s in body["study_results"]}
    assert studies["AMBA"]["status"] == "complete"
    assert studies["AMBA"]["day0"] == "2019-10-08"  # the first NYSE close after 16:15 on the 7th
    assert studies["AMBA"]["ar_day0"] < -0.05  # Ambarella fell about 9.5% that day
    assert studies["0020.HK"]["status"] != "complete"  # SenseTime first traded in 2021
    assert studies["0020.HK"]["reason"]
    [group_all] = [g for g in body["groups"] if g["group"] == "all"]
    assert group_all["n"] == 9
    assert group_all["tests"]["kp_bmp_t"] is not None
    assert body["alerts"] == []


def test_show_table_and_an_unknown_event(capsys: pytest.CaptureFixture[str], backfilled: Backfilled) -> None:
    code, out, _ = run(capsys, "--database-url", backfilled.url, "events", "show", "1")
    assert code == 0
    for heading in ("Entities", "Matches", "Studies", "Alert thread"):
        assert heading in out
    code, out, err = run(capsys, "--database-url", backfilled.url, "events", "show", "99")
    assert code == 2
    assert "no event 99: the stored events are 1, 2" in err


def test_show_on_an_empty_database_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "events", "show", "1")
    assert code == 2
    assert "no event 1: no events are stored yet" in err
    code, out, _ = run(capsys, "events", "list")
    assert (code, "no events stored yet" in out) == (0, True)


def _event_with_thread(sessions: sessionmaker[Session]) -> int:
    announced = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)
    with sessions.begin() as session:
        document = Document(
            document_number="2019-22210",
            source="pi",
            title="Addition of Certain Entities to the Entity List",
            first_seen_at=announced,
            filed_at=announced,
            is_entity_list=True,
            parse_status="parsed",
        )
        session.add(document)
        session.flush()
        session.add(ListingActionRow(document_id=document.id, seq=1, action="add", entity_name="Dahua", source="pi"))
        event = EventRow(document_id=document.id, announced_at=announced, announced_source="pi_filed_at", title="x")
        session.add(event)
        session.flush()
        stages = [("detected", None, 0, "sent"), ("day0", "002236.SZ", 1, "sent"), ("day1", None, 2, "dead")]
        for stage, symbol, days, status in stages:
            alert = AlertRow(
                dedup_key=f"event:{event.id}:{stage}",
                event_id=event.id,
                symbol=symbol,
                group_key=None if symbol else "all",
                stage=stage,
                payload={},
                due_at=announced + timedelta(days=days),
            )
            session.add(alert)
            session.flush()
            session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    sink="slack",
                    status=status,
                    attempts=1 if status == "sent" else 8,
                    next_attempt_at=alert.due_at,
                    sent_at=alert.due_at if status == "sent" else None,
                    thread_ref=None if stage == "detected" else "1570479300.000100",
                    last_error=None if status == "sent" else "channel_not_found",
                )
            )
        return event.id


def test_the_alert_thread_and_the_last_alert(sessions: sessionmaker[Session]) -> None:
    event_id = _event_with_thread(sessions)
    with sessions() as session:
        [line] = list_events(session)
        detail = show_event(session, event_id)
        assert show_event(session, event_id + 1) is None
    assert line.last_alert is not None
    assert (line.last_alert.stage, line.last_alert.status) == ("day1", "dead")
    assert line.entities == 1
    assert line.study_count("pending") == 0
    assert detail is not None
    assert [(a.stage, a.symbol) for a in detail.alerts] == [("detected", None), ("day0", "002236.SZ"), ("day1", None)]
    assert [d.status for a in detail.alerts for d in a.deliveries] == ["sent", "sent", "dead"]
    assert detail.alerts[2].deliveries[0].last_error == "channel_not_found"
    assert detail.alerts[1].deliveries[0].thread_ref == "1570479300.000100"
    body = detail.to_dict()
    assert body["alerts"][0]["due_at"] == "2019-10-07T20:15:00+00:00"
    assert body["last_alert"]["due_at"] == (datetime(2019, 10, 9, 20, 15, tzinfo=UTC)).isoformat()
    with sessions() as session:
        assert list_events(session, since=date(2019, 10, 8)) == []
