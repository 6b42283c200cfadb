"""The historical backfill: past Entity List rules through the same pipeline as the daemon, with the clock set to
each rule's past.

Stages, each resumable because every write is an upsert and nothing is skipped unless it is already done:

1. search: the Federal Register (or a directory of saved responses) for BIS documents of the range, stored and
   extracted by the poller exactly as the daemon stores them (a second run only re-reads the search pages);
2. filings: the public-inspection filing time of rules whose record does not carry it;
3. rules: each rule in range, oldest first, with the clock at the moment it became public: dated, matched
   against the universe as configured, studies opened (``Pipeline.document_arrived``);
4. prices: the bars those studies need that the price store lacks, fetched with the real clock;
5. studies: each event with an open study, clock at the close of its window on every exchange it touches
   (``Pipeline.update_studies``): the study sees only bars final by then. A halt still running then is followed
   up to ``max_open_days`` after the announcement, the last moment the daemon would have looked.

An interrupt (``stop`` set) ends the run between two items; the next run picks up where it stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.backfill.filing import fill_filing_times
from monitor.backfill.prices import earliest_start, price_needs, refresh_needed, uncovered
from monitor.backfill.rules import RuleToReplay, lacking_filing_time, rules_in_range
from monitor.backfill.summary import BackfillSummary, Failure, event_lines, study_notes
from monitor.backfill.timing import StudiedListing, window_closed_at
from monitor.clock import Clock, SimulatedClock
from monitor.config import Settings
from monitor.db.tables import SecurityRow, Study
from monitor.errors import MonitorError
from monitor.feeds.federal_register import FederalRegisterClient
from monitor.feeds.poll import FeedPoller
from monitor.logs import get_logger
from monitor.models import ParseStatus
from monitor.pipeline import OPEN_STUDY, Pipeline, PipelineOptions
from monitor.prices.calendars import Calendars
from monitor.prices.sources import PriceSource
from monitor.prices.store import OK, PriceStore

log = get_logger(__name__)

STAGES = ("search", "filings", "rules", "prices", "studies")


class Progress(Protocol):
    """Where stage progress goes (rich bars in the CLI, nothing in tests)."""

    def begin(self, stage: str, total: int | None) -> None: ...

    def advance(self, detail: str = "") -> None: ...

    def end(self, detail: str = "") -> None: ...


class NoProgress:
    def begin(self, stage: str, total: int | None) -> None:
        return None

    def advance(self, detail: str = "") -> None:
        return None

    def end(self, detail: str = "") -> None:
        return None


class BackfillInterrupted(Exception):
    """The stop flag was set; everything done so far is committed."""


@dataclass(frozen=True)
class BackfillRequest:
    since: date
    until: date | None = None
    alerts: bool = False  # enqueue the alerts the daemon would have sent (off: backfilled events stay silent)
    overrides: Mapping[str, datetime] = field(default_factory=dict)
    search: bool = True  # query the feed first (off: replay what is already stored)
    filing_lookup: bool = True  # ask public inspection for filing times the records lack


class PipelineFactory(Protocol):
    """Builds the run's pipeline on its replay clock (``monitor.commands.compose.backfill`` supplies it)."""

    def __call__(self, clock: Clock, options: PipelineOptions, /) -> Pipeline: ...


class Backfill:
    """Built by the composition root with its feed clients, price source and (for tests) a clock for "now"."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        calendars: Calendars,
        poller: FeedPoller | None,
        federal_register: FederalRegisterClient | None,
        price_source: PriceSource | None,
        clock: Clock,
        pipeline: PipelineFactory,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.calendars = calendars
        self.poller = poller
        self.fr = federal_register
        self.price_source = price_source
        self.clock = clock
        self.make_pipeline = pipeline
        self.progress = progress or NoProgress()
        self.stop = stop or threading.Event()

    def run(self, request: BackfillRequest) -> BackfillSummary:
        """Replay the request's rules, stage by stage (see the module docstring).

        BLAS runs on one thread for the whole run: the engine's matrix products are small (an event's 50-500
        securities by a few hundred sessions), and splitting each across threads costs more in hand-offs than it
        saves; on a busy 2-core machine the waiting threads made them 7-30 times slower (the pairwise residual
        correlations alone were a third of the studies stage). The numbers are the same either way.
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._run(request)

    def _run(self, request: BackfillRequest) -> BackfillSummary:
        started = time.monotonic()
        summary = BackfillSummary(since=request.since, until=request.until)
        replay = SimulatedClock(self.clock.now(), monotonic=False)
        # Studies read the store only: prices are fetched in their own stage, with real time.
        options = PipelineOptions(alerts=request.alerts, backfill=True, overrides=dict(request.overrides))
        pipeline = self.make_pipeline(replay, options)
        events: dict[str, int] = {}
        rules: list[RuleToReplay] = []
        try:
            if request.search:
                self._search(request, summary)
            if request.filing_lookup:
                self._filings(request, summary)
            with self.sessions() as session:
                rules = rules_in_range(session, request.since, request.until, request.overrides)
            self._rules(rules, pipeline, replay, summary, events)
            self._prices(list(events.values()), pipeline, summary)
            self._studies(rules, events, pipeline, replay, summary)
        except BackfillInterrupted:
            summary.interrupted = True
            log.warning("backfill_interrupted", rules_done=len(events))
        with self.sessions() as session:
            ordered = [events[rule.document_number] for rule in rules if rule.document_number in events]
            summary.events = event_lines(session, ordered)
            summary.failures += study_notes(session, ordered, pending=not summary.interrupted)
        summary.elapsed_seconds = time.monotonic() - started
        log.info(
            "backfill_done",
            rules=summary.rules,
            studies=summary.studies,
            failures=len(summary.failures),
            interrupted=summary.interrupted,
            seconds=round(summary.elapsed_seconds, 2),
        )
        return summary

    def _check(self) -> None:
        if self.stop.is_set():
            raise BackfillInterrupted

    # --- stages ----------------------------------------------------------------------------------------------------

    def _search(self, request: BackfillRequest, summary: BackfillSummary) -> None:
        if self.poller is None:
            return
        self.progress.begin("search", None)
        try:
            result = self.poller.poll_documents(since=request.since, until=request.until)
        except MonitorError as exc:  # documents already stored are still replayed; a rerun searches again
            summary.failures.append(Failure("search", "Federal Register", str(exc), retryable=True))
            self.progress.end(f"failed: {exc}")
            return
        summary.searched = result.seen
        summary.new_documents = sum(1 for arrival in result.arrivals if arrival.created)
        self.progress.end(f"{result.seen} documents, {summary.new_documents} new, {result.requests} requests")
        self._check()

    def _filings(self, request: BackfillRequest, summary: BackfillSummary) -> None:
        if self.fr is None:
            return
        with self.sessions() as session:
            lacking = lacking_filing_time(session, request.since, request.until)
        self.progress.begin("filings", len(lacking))
        lookup = fill_filing_times(
            self.sessions, self.fr, lacking, now=self.clock.now(), on_done=lambda number: self._step(number)
        )
        for number, reason in sorted(lookup.errors.items()):
            summary.failures.append(Failure("filing", number, reason, retryable=True))
        for number in lookup.not_found:
            summary.failures.append(
                Failure("filing", number, "not found on public inspection; dated by its publication")
            )
        self.progress.end(f"{len(lookup.found)} found, {len(lookup.not_found)} not on public inspection")

    def _step(self, detail: str) -> None:
        self.progress.advance(detail)
        self._check()

    def _rules(
        self,
        rules: Sequence[RuleToReplay],
        pipeline: Pipeline,
        replay: SimulatedClock,
        summary: BackfillSummary,
        events: dict[str, int],
    ) -> None:
        """Date, match and open studies for each rule with the clock at its announcement (``events``: number ->
        event id, filled as it goes so an interrupted run still reports what it did)."""
        self.progress.begin("rules", len(rules))
        for rule in rules:
            if rule.parse_status in (ParseStatus.FAILED, ParseStatus.PENDING):
                why = rule.parse_error or "no listing actions extracted"
                summary.failures.append(
                    Failure("rule", rule.document_number, why, retryable=rule.parse_status is ParseStatus.PENDING)
                )
            replay.set(rule.announced_at)
            try:
                outcome = pipeline.document_arrived(rule.document_id)
            except MonitorError as exc:
                summary.failures.append(Failure("rule", rule.document_number, str(exc), retryable=True))
                log.error("backfill_rule_failed", document=rule.document_number, error=str(exc))
            else:
                if outcome is not None:
                    events[rule.document_number] = outcome.event_id
            self._step(rule.document_number)
        self.progress.end(f"{len(events)} events")

    def _prices(self, event_ids: Sequence[int], pipeline: Pipeline, summary: BackfillSummary) -> None:
        with self.sessions() as session:
            needs, problems = price_needs(session, event_ids, pipeline.params, self.calendars)
            missing = uncovered(session, needs)
        for symbol, reason in sorted(problems.items()):
            summary.failures.append(Failure("prices", symbol, reason))
        self.progress.begin("prices", len(missing) if self.price_source is not None else 0)
        if self.price_source is None or not missing:
            self.progress.end(f"{len(needs)} symbols, all stored" if not missing else "no price source")
            return
        store = PriceStore.from_settings(self.sessions, self.settings, clock=self.clock, calendars=self.calendars)

        def fetched(result: object) -> None:
            self._step(getattr(result, "symbol", ""))

        since = earliest_start(needs)
        assert since is not None  # there are needs, since some are missing
        results = refresh_needed(store, self.price_source, missing, since=since, on_result=fetched)
        summary.prices_fetched = sum(1 for result in results if result.status == OK)
        for result in results:
            if result.status != OK:
                retry = result.status in ("error", "degraded")
                summary.failures.append(Failure("prices", result.symbol, result.reason or result.status, retry))
        self.progress.end(f"{summary.prices_fetched} of {len(needs)} symbols fetched")

    def _studies(
        self,
        rules: Sequence[RuleToReplay],
        events: Mapping[str, int],
        pipeline: Pipeline,
        replay: SimulatedClock,
        summary: BackfillSummary,
    ) -> None:
        todo = [(rule, events[rule.document_number]) for rule in rules if rule.document_number in events]
        self.progress.begin("studies", len(todo))
        now = self.clock.now()
        margin = self.settings.prices.bar_margin_minutes
        for rule, event_id in todo:
            with self.sessions() as session:
                studied = [
                    StudiedListing(symbol, mic, day0)
                    for symbol, mic, day0 in session.execute(
                        select(Study.symbol, SecurityRow.exchange_mic, Study.day0)
                        .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
                        .where(Study.event_id == event_id, Study.status.in_(OPEN_STUDY))
                    ).all()
                ]
            closed = window_closed_at(
                self.calendars, studied, window_end=pipeline.params.window[1], margin_minutes=margin
            )
            if closed is not None:
                last_look = rule.announced_at + timedelta(days=pipeline.options.max_open_days)
                for moment in (closed, max(closed, last_look)):
                    replay.set(min(moment, now))
                    try:  # the event is known to have open studies: straight to it, as update_studies would
                        pipeline.update_event(event_id)
                    except MonitorError as exc:
                        log.error("study_update_failed", event_id=event_id, error=str(exc))
                        summary.failures.append(Failure("study", f"event {event_id}", str(exc), retryable=True))
                        break
                    if moment >= now or not self._still_open(event_id):
                        break
            self._step(rule.document_number)
        self.progress.end()

    def _still_open(self, event_id: int) -> bool:
        with self.sessions() as session:
            return (
                session.scalars(
                    select(Study.id).where(Study.event_id == event_id, Study.status.in_(OPEN_STUDY)).limit(1)
                ).first()
                is not None
            )
