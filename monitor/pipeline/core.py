"""The one path from "a document arrived" to stored events, matches, studies and outbox rows.

Three callers use it, differing only in clock, feed source, price source and whether alerts go out: the daemon
(``monitor run``, live), the backfill (``monitor backfill``, with the clock set to each event's past) and the
offline demo. A backfilled event yields the same rows the daemon would have written live.

* ``document_arrived`` dates the event, matches its listing actions, opens a study per confirmed security and
  enqueues the ``detected`` alert, all in one transaction; quotes for the alert are fetched before it, with a
  time budget, so a slow price source delays an alert by seconds at most.
* ``refresh_prices`` brings the studied symbols' bars up to date after an exchange closes.
* ``update_studies`` reruns each open event's study with only the bars final at the clock's ``now`` (no
  look-ahead) and enqueues the follow-up stages whose sessions have closed, again in one transaction.

Durable work. The poll that stores a change the pipeline must see (a new filing, its published version, a better
extraction) marks the document due in the same transaction; ``document_arrived`` clears the mark in the transaction
that writes its results. A pipeline step that never completes (a database error, a SIGKILL, a replica dying) leaves
the document due, and ``catch_up`` (after every poll and in the periodic study job, on any replica) finishes it.
``handle`` and ``catch_up`` run each document under its own lease (``exclusive``), so two replicas do not both do
the work; if they did, the idempotent writes and the outbox's dedup keys would still alert once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor import metrics
from monitor.clock import Clock
from monitor.config import Settings
from monitor.db.engine import short_reason
from monitor.db.tables import Document, EventRow, ListingActionRow
from monitor.errors import CalendarOutOfRange, MonitorError
from monitor.feeds import store as document_store
from monitor.feeds.poll import Arrival
from monitor.feeds.spotting import NameSpotter
from monitor.logs import get_logger
from monitor.matching import Matcher, build_matcher, save_matches_many
from monitor.matching.store import listing_action_from_row
from monitor.models import AnnouncementSource, FeedName, Match, ParseStatus
from monitor.outbox import TextVersion, enqueue
from monitor.pipeline import event_rows
from monitor.pipeline.bars import BarReader, FinalBars, StoreBars
from monitor.pipeline.dating import Signals, announcement
from monitor.pipeline.detected import detected_card
from monitor.pipeline.facts import EventFacts, best_by_symbol, fingerprint, study_meta
from monitor.pipeline.followups import due_follow_ups
from monitor.pipeline.quotes import fetch_quotes
from monitor.pipeline.spots import spotted_matches, spotter_for
from monitor.pipeline.studies import run as run_study
from monitor.pipeline.study_rows import save as save_study
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing
from monitor.prices.sources import PriceSource
from monitor.prices.store import PriceStore, RefreshResult
from monitor.study import StudyParams

if TYPE_CHECKING:
    from monitor.prices.quotes import Quote

log = get_logger(__name__)

OPEN_STUDY = event_rows.OPEN_STUDY
RETRY_STUDY = event_rows.RETRY_STUDY

# Holds a named lease while the pipeline works on one document: yields something (the lease) when this worker may go
# ahead, ``None`` when another worker holds it (the daemon passes ``jobs.leasing.LeaseKeeper.hold``).
Exclusive = Callable[[str], AbstractContextManager[object | None]]


@contextmanager
def _unshared(name: str) -> Iterator[object | None]:
    """The default for a single process (the CLI, the backfill, the demo, tests): nothing to coordinate with."""
    yield name


@dataclass(frozen=True)
class PipelineOptions:
    alerts: bool = True  # enqueue alerts for new events (the backfill turns this off unless asked)
    backfill: bool = False  # mark new events as backfilled
    overrides: Mapping[str, datetime] = field(default_factory=dict)  # document number -> announced_at
    quote_budget_seconds: float = 8.0  # total time the detected alert may wait for quotes
    # A rule first seen this long after its announcement (a daemon's first start, a feed back from a long
    # outage that skipped it) is recorded and studied, but not alerted as news.
    max_alert_age: timedelta = timedelta(days=3)
    max_open_days: int = 60  # stop updating an event's studies this long after its announcement
    retry_days: int = 30  # keep retrying studies that had no usable prices this long after the announcement


@dataclass(frozen=True)
class ArrivalOutcome:
    document_number: str
    event_id: int
    event_created: bool
    announced_at: datetime
    parse_status: ParseStatus
    confirmed: tuple[str, ...]  # symbols auto-matched
    review: tuple[str, ...]  # symbols in the review band
    alerts: tuple[str, ...]  # dedup keys newly enqueued


@dataclass(frozen=True)
class CatchUp:
    processed: tuple[str, ...]  # document numbers run through the pipeline
    alerts: tuple[str, ...]  # dedup keys newly enqueued
    missing: int  # documents that were due (stored but not finished by the pipeline)
    failed: tuple[str, ...] = ()  # document numbers whose pipeline step failed again (still due)


@dataclass(frozen=True)
class Warmed:
    """What ``Pipeline.warm`` built ahead of the first alert, and how long it took."""

    securities: int
    calendars: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class StudyUpdate:
    events: int
    securities: int
    follow_ups: tuple[str, ...]  # dedup keys newly enqueued
    failures: tuple[str, ...]


class Pipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        clock: Clock,
        *,
        calendars: Calendars,
        price_source: PriceSource | None,
        options: PipelineOptions | None = None,
        bars: BarReader | None = None,
        exclusive: Exclusive | None = None,
    ) -> None:
        """``bars`` replaces the price store as the studies' bar reader (the backfill's cache across events);
        ``FinalBars`` still hides every bar not final at the clock's now. ``exclusive`` holds a document's lease
        while ``handle`` or ``catch_up`` processes it (replicas sharing a database)."""
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.calendars = calendars
        self.price_source = price_source
        self.options = options or PipelineOptions()
        self.bars = bars
        self.exclusive: Exclusive = exclusive or _unshared
        self.params = StudyParams.from_settings(settings.study)
        self.store = PriceStore.from_settings(sessions, settings, clock=clock, calendars=calendars)
        self._matcher: Matcher | None = None
        self._spotter: NameSpotter[str] | None = None  # built with the matcher, once per universe version
        self._fingerprint: tuple[Any, ...] | None = None
        self._matcher_lock = threading.Lock()  # one build at a time: a warm-up and the first arrival may race
        self._builds = 0

    # --- arrivals ----------------------------------------------------------------------------------------------

    def handle(self, arrivals: Iterable[Arrival]) -> list[ArrivalOutcome]:
        """Every Entity List arrival of a poll, once per document (a filing and its publication may both arrive)."""
        latest: dict[int, Arrival] = {}
        for arrival in arrivals:
            if arrival.is_entity_list:
                latest[arrival.document_id] = arrival
        outcomes: list[ArrivalOutcome] = []
        for document_id, arrival in latest.items():
            _, outcome = self.process(document_id, arrival.document_number)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def process(
        self, document_id: int, number: str, *, via: Pipeline | None = None
    ) -> tuple[str, ArrivalOutcome | None]:
        """``document_arrived`` (through ``via``, by default this pipeline) under the document's lease, never
        raising for one document: ``("done", outcome)``; ``("skipped", None)`` when another worker holds the
        lease (it finishes the document); ``("failed", None)`` after a failure, logged. A document that failed
        stays due, and the next catch-up (after the next poll, or the periodic study job) finishes it: one bad
        document or a database blip never stops the others, and never loses a card."""
        try:
            with self.exclusive(f"document:{document_id}") as held:
                if held is None:
                    log.info("document_pipeline_skipped", document=number, reason="another worker holds it")
                    return "skipped", None
                return "done", (via or self).document_arrived(document_id)
        except MonitorError as exc:
            log.error("document_pipeline_failed", document=number, error=str(exc), error_type=type(exc).__name__)
        except SQLAlchemyError as exc:  # the database blinked or failed over: the document stays due
            log.error(
                "document_pipeline_failed", document=number, error=short_reason(exc), error_type=type(exc).__name__
            )
        return "failed", None

    def document_arrived(self, document_id: int) -> ArrivalOutcome | None:
        """Date, match, open studies and alert for one stored document; None if it is not an Entity List action."""
        now = self.clock.now()
        with self.sessions.begin() as session:  # committed: building the matcher seeds an empty universe
            document = session.get(Document, document_id)
            if document is None or not document.is_entity_list:
                return None
            facts = EventFacts.from_document(document)
            revision = document.pipeline_revision  # what this pass processes; a newer change keeps it due
            rows = session.scalars(
                select(ListingActionRow)
                .where(ListingActionRow.document_id == document_id)
                .order_by(ListingActionRow.seq)
            ).all()
            actions = [(row.id, listing_action_from_row(row)) for row in rows]
            matcher = self._matcher_for(session)
            spotter = self._spotter
            text = document.pi_text
            # The entities come from the PI text until the published rule's own parse replaced them.
            from_pi = any(row.source == FeedName.PUBLIC_INSPECTION for row in rows) or (
                document.published_seen_at is None and document.pi_seen_at is not None
            )
            based_on: TextVersion = "public_inspection" if from_pi else "published"
        announced_at, source = announcement(
            Signals.of(facts),
            self.options.overrides.get(facts.document_number),
        )
        matched: dict[int, list[Match]] = {}
        for action_id, action in actions:
            try:  # as of the announcement's day: a listing not trading then says "listed later" or "delisted"
                matched[action_id] = matcher.match(action, as_of=announced_at.date())
            except (ValueError, KeyError) as exc:
                log.error("listing_action_match_failed", listing_action_id=action_id, error=str(exc))
        found = [match for matches in matched.values() for match in matches]
        parsed = {match.symbol: match for match in found}
        found += spotted_matches(spotter, text, parsed, matcher.index.securities) if spotter is not None else []
        best = best_by_symbol(found)
        securities = {symbol: matcher.index.securities[symbol] for symbol in best if symbol in matcher.index.securities}
        fresh = now - announced_at <= self.options.max_alert_age
        quotes: Mapping[str, Quote] = {}
        if self._live_alerts() and fresh and self.price_source is not None:
            quotes = fetch_quotes(
                self.price_source,
                best,
                securities,
                announced_at,
                now=now,
                calendars=self.calendars,
                budget_seconds=self.options.quote_budget_seconds,
            )
        with self.sessions.begin() as session:
            event, created = event_rows.upsert_event(
                session,
                document_id,
                facts.title,
                announced_at,
                source,
                now,
                backfill=self.options.backfill,
                alerts=self.options.alerts,
            )
            if created and now - announced_at > self.options.max_alert_age:
                event.alerts_enabled = False
                log.info("event_too_old_to_alert", event_id=event.id, announced_at=announced_at.isoformat())
            save_matches_many(session, matched)
            event_rows.open_studies(session, event, best, securities, calendars=self.calendars, params=self.params)
            enqueued: tuple[str, ...] = ()
            if event.alerts_enabled:
                card = detected_card(
                    event_id=event.id,
                    announced_at=event.announced_at,
                    announced_source=AnnouncementSource(event.announced_source),
                    facts=facts,
                    actions=[action for _, action in actions],
                    best=best,
                    securities=securities,
                    quotes=quotes,
                    earlier=event_rows.detected_payloads(session, event.id),
                    based_on=based_on,
                )
                if card is not None:
                    enqueued = event_rows.enqueue_card(session, card, settings=self.settings, now=now)
            document_store.finish_pipeline(session, document_id, revision)
        confirmed = tuple(symbol for symbol, match in best.items() if match.confirmed)
        for match in best.values():
            metrics.matches.labels(relation=match.relation.value, confirmed=str(match.confirmed).lower()).inc()
        if facts.parse_status is ParseStatus.FAILED:
            metrics.parse_failures.inc()
        log.info(
            "document_processed",
            document=facts.document_number,
            event_id=event.id,
            event_created=created,
            announced_at=announced_at.isoformat(),
            announced_source=source.value,
            parse_status=facts.parse_status.value,
            confirmed=list(confirmed),
            alerts=list(enqueued),
        )
        return ArrivalOutcome(
            document_number=facts.document_number,
            event_id=event.id,
            event_created=created,
            announced_at=event.announced_at,
            parse_status=facts.parse_status,
            confirmed=confirmed,
            review=tuple(symbol for symbol, match in best.items() if not match.confirmed),
            alerts=enqueued,
        )

    def catch_up(
        self,
        *,
        recent: timedelta | None = None,
        recheck: Pipeline | None = None,
        check_stop: Callable[[], None] = lambda: None,
    ) -> CatchUp:
        """Finish the Entity List documents the pipeline has not (a pipeline step that failed or was killed after
        the poll stored the document or its new version, another replica's failed pass, ``monitor poll``), and
        with ``recent`` re-check every other one first seen that recently (the daemon's start). Re-processing is
        idempotent: nothing is alerted twice. Re-checks go through ``recheck`` (the daemon passes one that fetches
        no quotes: the card they might add goes out without prices rather than holding the start-up for the price
        source); ``check_stop`` raises to abandon the rest."""
        since = self.clock.now() - recent if recent is not None else None
        with self.sessions() as session:
            missing, rechecks = event_rows.documents_to_catch_up(session, since)
        processed: list[str] = []
        alerts: list[str] = []
        failed: list[str] = []
        for pipeline, rows in ((self, missing), (recheck or self, rechecks)):
            for document_id, number in rows:
                check_stop()
                state, outcome = self.process(document_id, number, via=pipeline)
                if state == "failed":
                    failed.append(number)
                if outcome is not None:
                    processed.append(number)
                    alerts.extend(outcome.alerts)
        return CatchUp(tuple(processed), tuple(alerts), len(missing), tuple(failed))

    def _live_alerts(self) -> bool:
        return self.options.alerts and not self.options.backfill

    def _matcher_for(self, session: Session) -> Matcher:
        """The matcher, rebuilt only when the universe changed (an import from another process included)."""
        builds_before = self._builds
        with self._matcher_lock:
            # A build that finished while we waited (a warm-up) started after us: it is as new as our snapshot.
            stale = self._builds == builds_before and fingerprint(session) != self._fingerprint
            if self._matcher is None or stale:
                self._matcher = build_matcher(session, self.settings.matching)
                self._spotter = spotter_for(self._matcher.index)
                self._fingerprint = fingerprint(session)  # seeding may have just filled an empty universe
                self._builds += 1
            return self._matcher

    def warm(self) -> Warmed:
        """Build now what the first alert would otherwise wait for: the match index, the name spotter's automaton
        and the exchange calendars of every listing in the universe (day 0 and the quotes' sessions). A daemon
        calls this right after start-up, so a filing that arrives a minute later is matched in milliseconds."""
        started = time.perf_counter()
        with self.sessions.begin() as session:
            matcher = self._matcher_for(session)
        securities = matcher.index.securities
        names = sorted({self.calendars.name_for(s.symbol, mic=s.exchange_mic) for s in securities.values()})
        now = self.clock.now()
        built: list[str] = []
        for name in names:
            try:
                self.calendars.day0_on(name, now)
            except (CalendarOutOfRange, KeyError, ValueError) as exc:  # reported where it matters: at day 0
                log.debug("calendar_not_warmed", calendar=name, error=str(exc))
                continue
            built.append(name)
        warmed = Warmed(len(securities), tuple(built), time.perf_counter() - started)
        log.info("pipeline_warm", securities=warmed.securities, calendars=list(built), seconds=round(warmed.seconds, 3))
        return warmed

    # --- prices and studies ------------------------------------------------------------------------------------

    def open_events(self, event_ids: Sequence[int] | None = None) -> list[int]:
        """Events with a study still to compute, announced within ``max_open_days``."""
        with self.sessions() as session:
            return event_rows.open_events(session, self._open_window(), event_ids)

    def _open_window(self) -> event_rows.OpenWindow:
        return event_rows.OpenWindow.at(self.clock.now(), self.options.max_open_days, self.options.retry_days)

    def refresh_prices(self, *, calendar: str | None = None) -> list[RefreshResult]:
        """Fetch new bars for the open events' securities and benchmarks (one exchange's, when given)."""
        if self.price_source is None:
            return []
        events = self.open_events()
        with self.sessions() as session:
            rows = event_rows.studied_listings(session, events, self._open_window())
        wanted: dict[str, str | None] = {}
        for symbol, benchmark, mic in rows:
            if calendar is None or listing(symbol, mic=mic).calendar == calendar:
                wanted[symbol] = mic
                wanted.setdefault(benchmark, None)
        if not wanted:
            return []
        mics = {symbol: mic for symbol, mic in wanted.items() if mic}
        return self.store.refresh_many(list(wanted), self.price_source, mics=mics)

    def calendars_in_use(self) -> set[str]:
        """The exchange calendars of the open events' studies a price refresh would fetch: open ones (pending,
        partial, halted) and those retried for want of usable data within ``retry_days``."""
        events = self.open_events()
        if not events:
            return set()
        with self.sessions() as session:
            return event_rows.open_calendars(session, events, self._open_window())

    def latest_open_bar(self) -> date | None:
        """The newest stored bar of a security still being studied (the price-freshness gauge)."""
        return event_rows.latest_open_bar(self.sessions)

    def update_studies(self, event_ids: Sequence[int] | None = None) -> StudyUpdate:
        """Rerun every open event's study as of now and enqueue the follow-ups that fell due."""
        studied = 0
        follow_ups: list[str] = []
        failures: list[str] = []
        events = self.open_events(event_ids)
        for event_id in events:
            try:
                count, keys = self.update_event(event_id)
            except MonitorError as exc:
                log.error("study_update_failed", event_id=event_id, error=str(exc))
                failures.append(f"event {event_id}: {exc}")
                continue
            except SQLAlchemyError as exc:  # nothing of this event's update was committed: the next run redoes it
                reason = short_reason(exc)
                log.error("study_update_failed", event_id=event_id, error=reason, error_type=type(exc).__name__)
                failures.append(f"event {event_id}: database error: {reason}")
                continue
            studied += count
            follow_ups.extend(keys)
        return StudyUpdate(len(events), studied, tuple(follow_ups), tuple(failures))

    def update_event(self, event_id: int) -> tuple[int, tuple[str, ...]]:
        now = self.clock.now()
        with self.sessions() as session:
            event = session.get(EventRow, event_id)
            if event is None:
                return 0, ()
            document = session.get(Document, event.document_id)
            assert document is not None
            subjects, meta = study_meta(session, event_id)
        bars = FinalBars(
            self.bars or StoreBars(self.store, self.price_source, clock=self.clock),
            self.calendars,
            now=now,
            margin_minutes=self.settings.prices.bar_margin_minutes,
        )
        run = run_study(subjects, event.announced_at, self.params, bars, self.calendars)
        enqueued: list[str] = []
        with self.sessions.begin() as session:
            save_study(session, event_id, run, computed_at=now)
            if not event.alerts_enabled:
                return len(run.result.securities), ()
            for alert in due_follow_ups(
                self.calendars,
                event_id=event_id,
                document_number=document.document_number,
                title=event.title,
                announced_at=event.announced_at,
                federal_register_url=document.html_url,
                results=run.result.securities,
                groups=run.groups,
                exchanges=run.exchanges,
                params=self.params,
                meta=meta,
                now=now,
                margin_minutes=self.settings.prices.bar_margin_minutes,
            ):
                queued = enqueue(session, alert, settings=self.settings, now=now)
                if queued.created:
                    enqueued.append(queued.dedup_key)
        if enqueued:
            log.info("follow_ups_queued", event_id=event_id, alerts=enqueued)
        return len(run.result.securities), tuple(enqueued)


__all__ = ["OPEN_STUDY", "RETRY_STUDY", "ArrivalOutcome", "CatchUp", "Pipeline", "PipelineOptions", "StudyUpdate"]
