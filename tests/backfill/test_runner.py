"""The backfill end to end on saved Federal Register responses and the real prices, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.backfill import BackfillRequest, load_overrides
from monitor.db.tables import AlertRow, DailyPrice, Document, EventRow, MatchRow, SecurityRow, Study, StudyDay
from tests.backfill.conftest import (
    HUAWEI_SUPPLIERS,
    SINCE,
    UNTIL,
    Snapshot,
    fresh_sqlite,
    run_backfill,
    runner,
    settings_for,
)
from tests.backfill.dbcompare import differences, snapshot
from tests.conftest import event_by_number

TARGETS = {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _studies(sessions: sessionmaker[Session], event_id: int) -> dict[str, Study]:
    with sessions() as session:
        return {s.symbol: s for s in session.scalars(select(Study).where(Study.event_id == event_id))}


def test_two_rules_replayed_with_the_clock_in_their_past(
    sessions: sessionmaker[Session], engine: Engine, tmp_path: Path, trimmed_prices: Path
) -> None:
    settings = settings_for(tmp_path)
    summary = run_backfill(sessions, settings, trimmed_prices)
    assert summary.ok
    assert not summary.interrupted
    assert [e.document_number for e in summary.events] == ["2019-10616", "2019-22210"]  # oldest first
    assert summary.searched == 2

    huawei = event_by_number(sessions, "2019-10616")
    assert huawei.announced_at == at("2019-05-15T22:00:00")  # the shipped override: Commerce, the evening before
    assert huawei.announced_source == "override"
    assert huawei.is_backfill
    assert not huawei.alerts_enabled
    with sessions() as session:
        document = session.scalars(select(Document).where(Document.document_number == "2019-10616")).one()
        assert document.filed_at == at("2019-05-16T12:45:00")  # found on the 05-16 public-inspection issue
    suppliers = _studies(sessions, huawei.id)
    assert set(suppliers) == HUAWEI_SUPPLIERS
    assert {s.status for s in suppliers.values()} == {"complete"}
    assert {s.relation for s in suppliers.values()} == {"supplier"}
    assert {s.day0 for s in suppliers.values()} == {date(2019, 5, 16)}
    # No look-ahead: studied at the close (plus the bar margin) of the window's last New York session, 05-23.
    assert {s.computed_at for s in suppliers.values()} == {at("2019-05-23T20:30:00")}
    assert suppliers["NPTN"].car is not None
    assert suppliers["NPTN"].car < -0.2

    october = event_by_number(sessions, "2019-22210")
    studies = _studies(sessions, october.id)
    assert TARGETS | {"AMBA"} <= set(studies)
    hikvision = studies["002415.SZ"]
    assert hikvision.day0_halted
    assert hikvision.reaction_date == date(2019, 10, 10)
    assert hikvision.status == "complete"
    sensetime = studies["0020.HK"]  # listed on 2021-12-30 (the universe's date): reported as such, not hidden
    assert (sensetime.status, sensetime.car) == ("listed_later", None)
    assert sensetime.reason == "listed on 2021-12-30, after day 0 (2019-10-08): it could not react"
    with sessions() as session:
        last_day = session.scalar(
            select(func.max(StudyDay.date))
            .join(Study, Study.id == StudyDay.study_id)
            .where(Study.event_id == october.id)
        )
        assert last_day == date(2019, 10, 15)
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 0  # backfills are silent by default
        assert session.scalar(select(func.count()).select_from(MatchRow)) > 0
    assert summary.confirmed == 19
    assert summary.studies == {"complete": 17, "insufficient_data": 1, "listed_later": 1}
    assert {f.item for f in summary.failures if f.stage == "study"} == {"event 2 6697.T"}  # listed later: no failure
    assert not any(f.retryable for f in summary.failures)

    if engine.dialect.name != "postgresql":
        return  # on SQLite the resumed runs below run everything a second time
    before = snapshot(engine)
    again = run_backfill(sessions, settings, trimmed_prices)  # a second run over the same range changes nothing
    assert again.ok
    assert again.new_documents == 0
    assert differences(before, snapshot(engine)) == []


class StopAfter:
    """Progress that raises the stop flag once a stage has advanced ``count`` times."""

    def __init__(self, stage: str, count: int, stop: threading.Event) -> None:
        self.stage, self.count, self.stop, self.current = stage, count, stop, ""

    def begin(self, stage: str, total: int | None) -> None:
        self.current = stage

    def advance(self, detail: str = "") -> None:
        if self.current == self.stage:
            self.count -= 1
            if self.count <= 0:
                self.stop.set()

    def end(self, detail: str = "") -> None:
        return None


class AbortAt(StopAfter):
    """Progress that raises KeyboardInterrupt (a second Ctrl-C) in the middle of a stage."""

    def advance(self, detail: str = "") -> None:
        if self.current == self.stage:
            self.count -= 1
            if self.count <= 0:
                raise KeyboardInterrupt


def test_stopped_then_aborted_then_resumed_equals_one_run(
    tmp_path: Path, trimmed_prices: Path, baseline: Snapshot
) -> None:
    """A Ctrl-C (stop after the current rule), then a second Ctrl-C in the middle of the prices, then a full run:
    the same database as one uninterrupted run."""
    settings = settings_for(tmp_path)
    request = BackfillRequest(SINCE, UNTIL, overrides=load_overrides())
    engine, sessions = fresh_sqlite(tmp_path / "resumed.db")
    stop = threading.Event()
    progress = StopAfter("rules", 1, stop)
    first = runner(sessions, settings, progress=progress, stop=stop, prices=trimmed_prices).run(request)
    assert first.interrupted
    assert not first.ok
    assert [e.document_number for e in first.events] == ["2019-10616"]  # one rule in, its studies not yet run
    assert {s.status for s in _studies(sessions, first.events[0].event_id).values()} == {"pending"}
    with pytest.raises(KeyboardInterrupt):
        runner(sessions, settings, progress=AbortAt("prices", 5, threading.Event()), prices=trimmed_prices).run(request)
    with sessions() as session:
        assert 0 < session.scalar(select(func.count(func.distinct(DailyPrice.symbol)))) < 20
    resumed = runner(sessions, settings, prices=trimmed_prices).run(request)
    assert resumed.ok
    assert differences(baseline, snapshot(engine)) == []


def test_alerts_when_asked(tmp_path: Path, trimmed_prices: Path) -> None:
    _, sessions = fresh_sqlite(tmp_path / "alerts.db")
    run_backfill(sessions, settings_for(tmp_path), trimmed_prices, alerts=True)
    huawei = event_by_number(sessions, "2019-10616")
    assert huawei.alerts_enabled
    with sessions() as session:
        keys = set(session.scalars(select(AlertRow.dedup_key).where(AlertRow.event_id == huawei.id)))
    assert f"event:{huawei.id}:g:all:detected" in keys
    assert {f"event:{huawei.id}:g:XNYS:{stage}" for stage in ("day0", "day1", "day5", "window_closed")} <= keys


def test_dating_without_overrides_and_without_public_inspection(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    quick = runner(sessions, settings, prices=None)
    quick.run(BackfillRequest(SINCE, UNTIL, filing_lookup=False))
    huawei = event_by_number(sessions, "2019-10616")
    assert huawei.announced_source == "publication"  # no epoch in its record, lookup off: 06:00 ET on 05-21
    assert huawei.announced_at == at("2019-05-21T10:00:00")
    assert event_by_number(sessions, "2019-22210").announced_source == "pi_filed_at"  # the epoch in its PI PDF URL
    runner(sessions, settings, prices=None).run(BackfillRequest(SINCE, UNTIL))
    redated = event_by_number(sessions, "2019-10616")
    assert redated.announced_source == "pi_filed_at"  # the lookup found the filing: earlier, so it wins
    assert redated.announced_at == at("2019-05-16T12:45:00")
    assert {s.day0 for s in _studies(sessions, redated.id).values()} == {date(2019, 5, 16)}


def test_a_failed_search_still_replays_what_is_stored(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    runner(sessions, settings, prices=None).run(BackfillRequest(SINCE, UNTIL, overrides=load_overrides()))
    empty = tmp_path / "empty-feed"
    empty.mkdir()
    summary = runner(sessions, settings, feeds=empty, prices=None).run(BackfillRequest(SINCE, UNTIL))
    search = [f for f in summary.failures if f.stage == "search"]
    assert search
    assert search[0].retryable
    assert "documents_search.json" in search[0].reason
    assert not summary.ok
    assert [e.document_number for e in summary.events] == ["2019-10616", "2019-22210"]


def test_rules_outside_the_range_are_left_alone(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    summary = runner(sessions, settings_for(tmp_path), prices=None).run(
        BackfillRequest(date(2019, 9, 1), date(2019, 12, 31), overrides=load_overrides())
    )
    assert [e.document_number for e in summary.events] == ["2019-22210"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SecurityRow)) > 0
        assert session.scalar(select(func.count()).select_from(EventRow)) == 1
