"""The bodies of the scheduled jobs: each calls one poller, pipeline or outbox function and reports what it did.

Every poll hands its arrivals to ``Pipeline.handle``, the one path for "a document arrived". Jobs that produce
alerts wake the delivery job so an alert leaves within seconds rather than at the next delivery tick. Long loops
(the open events, the delivery batch, the exchanges to refresh) check the stop flag between steps, and the feed
clients' retry sleeps are interruptible, so a shutdown never waits for a backoff to run out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from jobs.closes import CloseWatch
from jobs.health import export_feed_gauges, read_feed_health
from jobs.runner import JobResult, StopRequested
from monitor import metrics
from monitor.clock import Clock
from monitor.db.tables import Document, EventRow, SecurityRow, Study
from monitor.db.tables.prices import DailyPrice
from monitor.errors import MonitorError
from monitor.logs import get_logger
from monitor.models import OPEN_STUDY_STATUSES, FeedName
from monitor.prices.exchanges import listing

if TYPE_CHECKING:
    from alerts.delivery import DeliveryWorker
    from monitor.feeds.poll import FeedPoller
    from monitor.pipeline import Pipeline

log = get_logger(__name__)

OPEN_STUDY = tuple(status.value for status in OPEN_STUDY_STATUSES)
EVENTS_PER_STEP = 5  # open events updated between two looks at the stop flag
DELIVERIES_PER_STEP = 10  # deliveries attempted between two looks at the stop flag

# Scheduler job ids; the names of the leases and metrics too.
POLL_JOBS = {FeedName.PUBLIC_INSPECTION: "poll_pi", FeedName.DOCUMENTS: "poll_fr", FeedName.CSL: "poll_csl"}
REFRESH_PRICES = "refresh_prices"
UPDATE_STUDIES = "update_studies"
DELIVER = "deliver_alerts"
HEARTBEAT = "heartbeat"


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
        worker: DeliveryWorker,
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
        alerts = [key for outcome in outcomes for key in outcome.alerts]
        if alerts:
            self.wake(DELIVER)
        summary: dict[str, Any] = {"feed": feed.value, "requests": result.requests, "seen": result.seen}
        if result.arrivals:
            summary["arrivals"] = [arrival.document_number for arrival in result.arrivals]
            summary["events"] = [f"{o.document_number}->{o.event_id}" for o in outcomes]
            summary["alerts"] = alerts
        return JobResult(summary, noteworthy=bool(result.arrivals))

    def export_feed_state(self) -> None:
        try:
            with self.sessions() as session:
                export_feed_gauges(read_feed_health(session))
        except SQLAlchemyError as exc:  # the gauges are refreshed next time; never hide the job's own outcome
            log.debug("feed_gauges_not_refreshed", error=str(exc).splitlines()[0])

    # --- documents the pipeline has not seen -----------------------------------------------------------------

    def catch_up(self, *, recent: timedelta | None = None) -> JobResult:
        """Run the pipeline on Entity List documents stored without an event (a crash between storing and
        processing, another replica's failed pass, ``monitor poll``), and with ``recent`` re-check every one first
        seen that recently (the daemon's start: a crash may have come between a rule's new version and its update
        card). Re-processing is idempotent: nothing is alerted twice. Re-checks fetch no quotes (``recheck``):
        the card they might add goes out without prices rather than holding the start-up for the price source."""
        documents = select(Document.id, Document.document_number).where(Document.is_entity_list.is_(True))
        with_event = select(EventRow.document_id)
        order = (Document.first_seen_at, Document.id)
        with self.sessions() as session:
            missing = [
                (int(i), str(n))
                for i, n in session.execute(documents.where(Document.id.not_in(with_event)).order_by(*order))
            ]
            rechecks: list[tuple[int, str]] = []
            if recent is not None:
                since = self.clock.now() - recent
                recently = documents.where(Document.id.in_(with_event), Document.first_seen_at >= since)
                rechecks = [(int(i), str(n)) for i, n in session.execute(recently.order_by(*order))]
        processed: list[str] = []
        alerts: list[str] = []
        with self._arrivals:
            for pipeline, rows in ((self.pipeline, missing), (self.recheck or self.pipeline, rechecks)):
                for document_id, number in rows:
                    self.check_stop()
                    try:
                        outcome = pipeline.document_arrived(document_id)
                    except MonitorError as exc:
                        log.error("catch_up_failed", document=number, error=str(exc))
                        continue
                    if outcome is not None:
                        processed.append(number)
                        alerts.extend(outcome.alerts)
        if alerts:
            self.wake(DELIVER)
        return JobResult({"documents": processed, "alerts": alerts}, noteworthy=bool(alerts or missing))

    # --- prices and studies ----------------------------------------------------------------------------------

    def refresh_prices(self, *, all_calendars: bool = False) -> JobResult:
        """Refresh the studied securities of each exchange that closed since its last refresh (all with
        ``all_calendars``, as ``--once`` does), then wake the study job."""
        in_use = self.calendars_in_use()
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

    def calendars_in_use(self) -> set[str]:
        events = self.pipeline.open_events()
        if not events:
            return set()
        with self.sessions() as session:
            rows = session.execute(
                select(Study.symbol, SecurityRow.exchange_mic)
                .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
                .where(Study.event_id.in_(events), Study.status.in_(OPEN_STUDY))
            ).all()
        names: set[str] = set()
        for symbol, mic in rows:
            try:
                names.add(listing(symbol, mic=mic).calendar)
            except MonitorError as exc:
                log.warning("unknown_listing", symbol=symbol, error=str(exc))
        return names

    def export_price_freshness(self) -> None:
        studied = select(Study.symbol).where(Study.status.in_(OPEN_STUDY))
        with self.sessions() as session:
            newest = session.execute(
                select(func.max(DailyPrice.date)).where(DailyPrice.symbol.in_(studied))
            ).scalar_one_or_none()
        if isinstance(newest, date):
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
