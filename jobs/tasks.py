"""The bodies of the scheduled jobs: each calls one poller, pipeline or outbox function and reports what it did.

Every poll hands its arrivals to ``Pipeline.handle``, the one path for "a document arrived". Jobs that produce
alerts wake the delivery job so an alert leaves within seconds rather than at the next delivery tick. Long loops
(the open events, the delivery batch, the exchanges to refresh) check the stop flag between steps, and the feed
clients' retry sleeps are interruptible, so a shutdown never waits for a backoff to run out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from jobs.closes import CloseWatch
from jobs.health import export_feed_gauges
from jobs.runner import JobResult, StopRequested
from monitor import metrics
from monitor.clock import Clock
from monitor.errors import MonitorError
from monitor.feeds.health import read_feed_health
from monitor.logs import get_logger
from monitor.models import FeedName

if TYPE_CHECKING:
    from monitor.feeds.poll import FeedPoller
    from monitor.pipeline import Pipeline

log = get_logger(__name__)
EVENTS_PER_STEP = 5  # open events updated between two looks at the stop flag
DELIVERIES_PER_STEP = 10  # deliveries attempted between two looks at the stop flag

# Scheduler job ids; the names of the leases and metrics too.
POLL_JOBS = {FeedName.PUBLIC_INSPECTION: "poll_pi", FeedName.DOCUMENTS: "poll_fr", FeedName.CSL: "poll_csl"}
REFRESH_PRICES = "refresh_prices"
UPDATE_STUDIES = "update_studies"
DELIVER = "deliver_alerts"
HEARTBEAT = "heartbeat"


class DeliveryPass(Protocol):
    """What one delivery pass reports (``alerts.delivery.DeliveryReport``)."""

    sent: int
    retrying: int
    dead: int
    waiting: int
    recovered: int
    skipped: int
    lost: int


class Deliverer(Protocol):
    """The outbox's delivery side (``alerts.delivery.DeliveryWorker``, handed in by the composition root)."""

    def run_once(self, *, limit: int | None = None) -> DeliveryPass: ...


def interruptible_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A ``sleep`` for retry loops that gives up, raising ``StopRequested``, as soon as the daemon stops."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise StopRequested(f"stopping during a {seconds:.1f}s retry pause")

    return sleep


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class DaemonTasks:
    """One instance per daemon; its methods are the job bodies the scheduler runs through ``JobRunner``."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        pipeline: Pipeline,
        poller: FeedPoller,
        worker: Deliverer,
        closes: CloseWatch,
        stop: threading.Event,
        batch_size: int,
        wake: Callable[[str], None] | None = None,
        recheck: Pipeline | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.pipeline = pipeline
        self.poller = poller
        self.worker = worker
        self.closes = closes
        self.stop = stop
        self.batch_size = batch_size
        self.wake: Callable[[str], None] = wake or (lambda job: None)
        self.recheck = recheck  # the pipeline without quotes, for re-checking documents already processed
        self._arrivals = threading.Lock()  # one pipeline pass over arrivals at a time in this process

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise StopRequested("stopping")

    # --- feeds -------------------------------------------------------------------------------------------------

    def poll(self, feed: FeedName) -> JobResult:
        try:
            result = self.poller.poll(feed)
        except MonitorError:
            metrics.poll_failures.labels(feed=feed.value).inc()
            raise
        finally:
            self.export_feed_state()
        metrics.documents_seen.labels(feed=feed.value).inc(result.seen)
        metrics.documents_new.labels(feed=feed.value).inc(sum(arrival.created for arrival in result.arrivals))
        with self._arrivals:
            outcomes = self.pipeline.handle(result.arrivals)
            # Then every document still due: one whose step just failed, or that an earlier pass (here or on
            # another replica) stored but never finished. Cheap when there is none.
            caught_up = self.pipeline.catch_up(check_stop=self.check_stop)
        alerts = [key for outcome in outcomes for key in outcome.alerts]
        if alerts or caught_up.alerts:
            self.wake(DELIVER)
        summary: dict[str, Any] = {"feed": feed.value, "requests": result.requests, "seen": result.seen}
        if result.arrivals:
            summary["arrivals"] = [arrival.document_number for arrival in result.arrivals]
            summary["events"] = [f"{o.document_number}->{o.event_id}" for o in outcomes]
            summary["alerts"] = alerts
        if caught_up.processed or caught_up.failed:
            summary["caught_up"] = list(caught_up.processed)
            summary["caught_up_alerts"] = list(caught_up.alerts)
        if caught_up.failed:
            summary["still_due"] = list(caught_up.failed)
        return JobResult(summary, noteworthy=bool(result.arrivals or caught_up.processed or caught_up.failed))

    def export_feed_state(self) -> None:
        try:
            export_feed_gauges(read_feed_health(self.sessions))
        except SQLAlchemyError as exc:  # the gauges are refreshed next time; never hide the job's own outcome
            log.debug("feed_gauges_not_refreshed", error=str(exc).splitlines()[0])

    # --- start-up ------------------------------------------------------------------------------------------------

    def warm(self) -> JobResult:
        """Both pipelines' match index, name spotter and calendars built, and a PDF reader process started, before
        the first filing needs them."""
        self.poller.warm()
        summary: dict[str, Any] = {}
        for name, pipeline in (("pipeline", self.pipeline), ("recheck", self.recheck)):
            if pipeline is None:
                continue
            self.check_stop()
            warmed = pipeline.warm()
            summary[name] = {"securities": warmed.securities, "seconds": round(warmed.seconds, 3)}
        return JobResult(summary, noteworthy=True)  # once per start: the log says when the daemon is warm

    # --- documents the pipeline has not seen -----------------------------------------------------------------

    def catch_up(self, *, recent: timedelta | None = None) -> JobResult:
        """The pipeline over Entity List documents it has not finished (``Pipeline.catch_up``), re-checking with
        ``recent`` those first seen that recently through ``recheck`` (no quotes), one pass at a time."""
        with self._arrivals:
            done = self.pipeline.catch_up(recent=recent, recheck=self.recheck, check_stop=self.check_stop)
        if done.alerts:
            self.wake(DELIVER)
        summary: dict[str, Any] = {"documents": list(done.processed), "alerts": list(done.alerts)}
        if done.failed:
            summary["still_due"] = list(done.failed)
        return JobResult(summary, noteworthy=bool(done.alerts or done.missing or done.failed))

    # --- prices and studies ----------------------------------------------------------------------------------

    def refresh_prices(self, *, all_calendars: bool = False) -> JobResult:
        """Refresh the studied securities of each exchange that closed since its last refresh (all with
        ``all_calendars``, as ``--once`` does), then wake the study job."""
        in_use = self.pipeline.calendars_in_use()
        now = self.clock.now()
        due = sorted(in_use) if all_calendars else self.closes.due(in_use, now)
        refreshed: dict[str, int] = {}
        problems: list[str] = []
        for calendar in due:
            self.check_stop()
            results = self.pipeline.refresh_prices(calendar=calendar)
            failed = [f"{r.symbol}: {r.reason or r.status}" for r in results if r.status in ("degraded", "error")]
            refreshed[calendar] = sum(r.written for r in results)
            if failed:
                problems.extend(failed)
            else:
                self.closes.refreshed(calendar, now)
        self.export_price_freshness()
        if due:
            self.wake(UPDATE_STUDIES)
        summary: dict[str, Any] = {"calendars": refreshed}
        if problems:
            summary["problems"] = problems[:10]
        return JobResult(summary, noteworthy=bool(due))

    def export_price_freshness(self) -> None:
        newest = self.pipeline.latest_open_bar()
        if newest is not None:
            metrics.price_data_latest.set(datetime(newest.year, newest.month, newest.day, tzinfo=UTC).timestamp())

    def update_studies(self) -> JobResult:
        """Catch up on unprocessed documents, then rerun the open events' studies as of now, a few at a time."""
        caught_up = self.catch_up()
        events = self.pipeline.open_events()
        follow_ups: list[str] = []
        failures: list[str] = []
        securities = 0
        for chunk in _chunks(events, EVENTS_PER_STEP):
            self.check_stop()
            update = self.pipeline.update_studies(chunk)
            securities += update.securities
            follow_ups.extend(update.follow_ups)
            failures.extend(update.failures)
        if follow_ups:
            self.wake(DELIVER)
        self.export_price_freshness()
        summary: dict[str, Any] = {"events": len(events), "securities": securities}
        if follow_ups:
            summary["follow_ups"] = follow_ups
        if failures:
            summary["failures"] = failures[:10]
        if caught_up.summary.get("documents"):
            summary["caught_up"] = caught_up.summary["documents"]
        return JobResult(summary, noteworthy=bool(follow_ups or failures or caught_up.noteworthy))

    # --- alerts ----------------------------------------------------------------------------------------------

    def deliver(self) -> JobResult:
        """Delivery passes of a few alerts each until nothing more goes out (at most ``alerts.batch_size``)."""
        totals = {"sent": 0, "retrying": 0, "dead": 0, "waiting": 0, "recovered": 0}
        attempted = 0
        while attempted < self.batch_size:
            self.check_stop()
            step = min(DELIVERIES_PER_STEP, self.batch_size - attempted)
            report = self.worker.run_once(limit=step)
            for key in totals:
                totals[key] += getattr(report, key)
            handled = report.sent + report.retrying + report.dead + report.lost + report.waiting + report.skipped
            attempted += max(handled, 1)
            if report.sent == 0 or handled < step:
                break
        return JobResult(totals, noteworthy=bool(totals["sent"] or totals["dead"] or totals["recovered"]))
