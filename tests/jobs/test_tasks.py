"""The job bodies on the October 2019 rule: saved Federal Register responses, real prices, a simulated clock."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import DeliveryWorker
from jobs.closes import CloseWatch
from jobs.runner import StopRequested
from jobs.tasks import DELIVER, UPDATE_STUDIES, DaemonTasks, interruptible_sleep
from monitor import metrics
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables import EventRow
from monitor.errors import FeedUnavailable
from monitor.feeds.wiring import build_clients, build_poller
from monitor.models import FeedName
from monitor.pipeline import Pipeline
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from tests.conftest import SHARED_DATA
from tests.fakes.sinks import FakeSink
from tests.feeds.test_raw_text import rule_2019_as_text
from tests.recent_prices import recent_prices

RULE_DIR = SHARED_DATA / "feeds" / "entity_list_2019-22210"
Sessions = sessionmaker[Session]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sample(name: str, labels: dict[str, str]) -> float:
    return float(metrics.REGISTRY.get_sample_value(name, labels) or 0)


class Rig:
    """The daemon's parts as ``Daemon._build`` wires them, on saved responses."""

    def __init__(
        self,
        sessions: Sessions,
        tmp_path: Path,
        *,
        transport: httpx.BaseTransport | None = None,
        retries: int = 4,
        pipeline_sessions: Sessions | None = None,
    ) -> None:
        """``pipeline_sessions``: what the pipeline writes through (a database that fails on cue), by default the
        same sessions as everything else."""
        saved = tmp_path / "saved"
        shutil.copytree(RULE_DIR, saved)
        shutil.copy(RULE_DIR / "public_inspection_2019-10-07.json", saved / "public_inspection_current.json")
        (saved / "public_inspection_2019-22210.txt").write_text(rule_2019_as_text(), encoding="utf-8")
        self.settings = Settings(
            data_dir=tmp_path,
            prices={"source": f"dir:{recent_prices()}"},
            study={"placebo_draws": 20},
            alerts={"charts": False},
            network={"max_retries": retries},
        )
        self.clock = SimulatedClock(utc("2019-10-07T20:20:00"))
        self.stop = threading.Event()
        self.woken: list[str] = []
        self.sink = FakeSink("console")
        calendars = calendars_from_settings(self.settings)
        clients = build_clients(
            self.settings,
            source=None if transport else f"dir:{saved}",
            transport=transport,
            sleep=interruptible_sleep(self.stop),
        )
        self.poller = build_poller(self.settings, sessions, self.clock, clients)
        self.pipeline = Pipeline(
            pipeline_sessions or sessions,
            self.settings,
            self.clock,
            calendars=calendars,
            price_source=CsvDirectorySource(recent_prices()),
        )
        self.tasks = DaemonTasks(
            sessions=sessions,
            clock=self.clock,
            pipeline=self.pipeline,
            poller=self.poller,
            worker=DeliveryWorker(sessions, {"console": self.sink}, settings=self.settings, clock=self.clock),
            closes=CloseWatch(calendars, margin_minutes=self.settings.prices.bar_margin_minutes),
            stop=self.stop,
            batch_size=self.settings.alerts.batch_size,
            wake=self.woken.append,
        )


def test_a_poll_hands_its_arrivals_to_the_pipeline_and_wakes_delivery(sessions: Sessions, tmp_path: Path) -> None:
    rig = Rig(sessions, tmp_path)
    seen, new = (
        sample("monitor_documents_seen_total", {"feed": "pi"}),
        sample("monitor_documents_new_total", {"feed": "pi"}),
    )
    result = rig.tasks.poll(FeedName.PUBLIC_INSPECTION)
    assert result.noteworthy
    assert result.summary["arrivals"] == ["2019-22210"]
    alert, entities = result.summary["alerts"]  # the card, and its entity list threaded under it
    assert alert.endswith(":g:all:detected")
    assert entities.endswith(":g:all:entities")
    assert rig.woken == [DELIVER]
    assert sample("monitor_documents_seen_total", {"feed": "pi"}) == seen + 1
    assert sample("monitor_documents_new_total", {"feed": "pi"}) == new + 1
    again = rig.tasks.poll(FeedName.PUBLIC_INSPECTION)
    assert not again.noteworthy
    assert "alerts" not in again.summary
    assert rig.tasks.deliver().summary["sent"] == 2
    assert rig.sink.keys() == [alert, entities]


def test_a_failed_poll_is_counted_and_raised(sessions: Sessions, tmp_path: Path) -> None:
    down = httpx.MockTransport(lambda request: httpx.Response(503, text="<html>maintenance</html>"))
    rig = Rig(sessions, tmp_path, transport=down, retries=0)
    before = sample("monitor_poll_failures_total", {"feed": "fr"})
    with pytest.raises(FeedUnavailable):
        rig.tasks.poll(FeedName.DOCUMENTS)
    assert sample("monitor_poll_failures_total", {"feed": "fr"}) == before + 1
    assert sample("monitor_feed_consecutive_failures", {"feed": "fr"}) == 1


def test_catch_up_processes_documents_stored_without_an_event(sessions: Sessions, tmp_path: Path) -> None:
    """A crash between storing a filing and running the pipeline on it must not cost its alert."""
    rig = Rig(sessions, tmp_path)
    rig.poller.poll(FeedName.PUBLIC_INSPECTION)  # stored, then "the process died"
    with sessions() as session:
        assert session.scalars(select(EventRow)).all() == []
    caught = rig.tasks.catch_up()
    assert caught.summary["documents"] == ["2019-22210"]
    assert len(caught.summary["alerts"]) == 2  # the card and its entity list
    assert rig.woken == [DELIVER]
    assert rig.tasks.catch_up().summary == {"documents": [], "alerts": []}
    rechecked: list[int] = []

    class Recheck:  # the daemon passes a pipeline without quotes; here, one that records what it re-checks
        def document_arrived(self, document_id: int) -> object:
            rechecked.append(document_id)
            return rig.pipeline.document_arrived(document_id)

    rig.tasks.recheck = Recheck()  # type: ignore[assignment]
    recent = rig.tasks.catch_up(recent=rig.pipeline.options.max_alert_age)
    assert recent.summary == {"documents": ["2019-22210"], "alerts": []}  # re-processed, nothing alerted twice
    assert len(rechecked) == 1
    assert not recent.noteworthy


def test_closes_refresh_prices_then_studies_send_follow_ups(sessions: Sessions, tmp_path: Path) -> None:
    rig = Rig(sessions, tmp_path)
    rig.tasks.poll(FeedName.PUBLIC_INSPECTION)
    assert rig.pipeline.calendars_in_use() >= {"XNYS", "XSHG"}
    rig.clock.set(utc("2019-10-08T21:00:00"))  # both exchanges have closed day 0 (10-08)
    first = rig.tasks.refresh_prices()
    assert {"XNYS", "XSHG"} <= set(first.summary["calendars"])
    assert rig.woken[-1] == UPDATE_STUDIES
    assert not rig.tasks.refresh_prices().noteworthy  # no close since
    studies = rig.tasks.update_studies()
    follow_ups = set(studies.summary["follow_ups"])
    assert any(key.endswith(":g:XSHG:day0") for key in follow_ups)
    assert any(key.endswith(":g:XNYS:day0") for key in follow_ups)
    assert rig.woken[-1] == DELIVER
    latest = sample("monitor_price_data_latest_session_timestamp_seconds", {})
    assert latest == datetime(2019, 10, 8, tzinfo=UTC).timestamp()
    delivered = rig.tasks.deliver().summary
    assert delivered["sent"] == 2 + len(follow_ups)  # the card, its entity list, the follow-ups
    rig.clock.set(utc("2019-10-09T08:00:00"))  # Shanghai and Tokyo closed 10-09; New York has not yet
    # Tokyo: 6697.T found no prices (insufficient_data), a study retried within retry_days, so Tokyo's close
    # refreshes it as refresh_prices would; New York waits for its own close.
    assert rig.tasks.refresh_prices().summary["calendars"].keys() == {"XSHG", "XTKS"}


def test_long_loops_stop_between_steps(sessions: Sessions, tmp_path: Path) -> None:
    rig = Rig(sessions, tmp_path)
    rig.poller.poll(FeedName.PUBLIC_INSPECTION)  # a document waiting for the pipeline
    rig.stop.set()
    for body in (rig.tasks.deliver, rig.tasks.update_studies, rig.tasks.catch_up):
        with pytest.raises(StopRequested):
            body()
    assert rig.sink.sent == []


def test_retry_pauses_end_when_the_daemon_stops() -> None:
    stop = threading.Event()
    sleep = interruptible_sleep(stop)
    begun = time.monotonic()
    sleep(0.05)
    assert time.monotonic() - begun >= 0.05
    threading.Timer(0.1, stop.set).start()
    begun = time.monotonic()
    with pytest.raises(StopRequested, match="retry pause"):
        sleep(30)
    assert time.monotonic() - begun < 5


def test_warm_builds_what_the_first_card_needs_before_any_poll(sessions: Sessions, tmp_path: Path) -> None:
    from monitor.feeds.pdf_text import ready_reader, stop_reader

    rig = Rig(sessions, tmp_path)
    try:
        result = rig.tasks.warm()
        assert ready_reader() is not None  # a PDF-only filing will not wait for an interpreter
    finally:
        stop_reader()
    assert result.summary["pipeline"]["securities"] > 0
    assert "recheck" not in result.summary  # the rig wires no recheck pipeline
    rig.stop.set()
    with pytest.raises(StopRequested):
        rig.tasks.warm()
