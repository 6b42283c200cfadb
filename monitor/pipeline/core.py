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
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from monitor import metrics
from monitor.clock import Clock
from monitor.config import Settings
from monitor.db.tables import Document, EventRow, ListingActionRow, SecurityRow, Study
from monitor.errors import MonitorError
from monitor.feeds.poll import Arrival
from monitor.feeds.spotting import NameSpotter
from monitor.logs import get_logger
from monitor.matching import Matcher, build_matcher, save_matches_many
from monitor.matching.store import listing_action_from_row
from monitor.models import (
    OPEN_STUDY_STATUSES,
    RETRY_STUDY_STATUSES,
    AnnouncementSource,
    FeedName,
    Match,
    ParseStatus,
)
from monitor.outbox import ReconcileAlert, TextVersion, enqueue
from monitor.pipeline import event_rows
from monitor.pipeline.bars import BarReader, FinalBars, StoreBars
from monitor.pipeline.dating import Signals, announcement
from monitor.pipeline.detected import detected_card, entity_reply
from monitor.pipeline.facts import EventFacts, best_by_symbol, fingerprint, study_meta
from monitor.pipeline.followups import covered_through, due_stages, follow_up
from monitor.pipeline.reconcile import root_key
from monitor.pipeline.spots import build_spotter, spotted_matches
from monitor.pipeline.studies import run as run_study
from monitor.pipeline.study_rows import save as save_study
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing
from monitor.prices.sources import PriceSource
from monitor.prices.store import PriceStore, RefreshResult
from monitor.study import StudyParams

log = get_logger(__name__)

OPEN_STUDY = tuple(status.value for status in OPEN_STUDY_STATUSES)
# No usable prices yet (a source outage at day 0, a feed lagging): retried for ``retry_days``, then left alone.
RETRY_STUDY = tuple(status.value for status in RETRY_STUDY_STATUSES)


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
    ) -> None:
        """``bars`` replaces the price store as the studies' bar reader (the backfill's cache across events);
        ``FinalBars`` still hides every bar not final at the clock's now."""
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.calendars = calendars
        self.price_source = price_source
        self.options = options or PipelineOptions()
        self.bars = bars
        self.params = StudyParams.from_settings(settings.study)
        self.store = PriceStore.from_settings(sessions, settings, clock=clock, calendars=calendars)
        self._matcher: Matcher | None = None
        self._spotter: NameSpotter[str] | None = None  # built with the matcher, once per universe version
        self._fingerprint: tuple[Any, ...] | None = None

    # --- arrivals ----------------------------------------------------------------------------------------------

    def handle(self, arrivals: Iterable[Arrival]) -> list[ArrivalOutcome]:
        """Every Entity List arrival of a poll, once per document (a filing and its publication may both arrive)."""
        latest: dict[int, Arrival] = {}
        for arrival in arrivals:
            if arrival.is_entity_list:
                latest[arrival.document_id] = arrival
        outcomes: list[ArrivalOutcome] = []
        for document_id in latest:
            try:
                outcome = self.document_arrived(document_id)
            except MonitorError as exc:  # one bad document never stops the others; the next poll retries it
                log.error("document_pipeline_failed", document_id=document_id, error=str(exc))
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def document_arrived(self, document_id: int) -> ArrivalOutcome | None:
        """Date, match, open studies and alert for one stored document; None if it is not an Entity List action."""
        now = self.clock.now()
        with self.sessions.begin() as session:  # committed: building the matcher seeds an empty universe
            document = session.get(Document, document_id)
            if document is None or not document.is_entity_list:
                return None
            facts = EventFacts.from_document(document)
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
        quotes = self._quotes(best, securities, announced_at, now) if self._live_alerts() and fresh else {}
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
            card = None
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
                queued = enqueue(session, card, settings=self.settings, now=now)
                enqueued = (queued.dedup_key,) if queued.created else ()
                shown = card.card if isinstance(card, ReconcileAlert) else card
                if isinstance(card, ReconcileAlert) and queued.created:  # only the one who wrote the reply
                    event_rows.replace_card(session, root_key(event.id), shown)
                # The card says "full list in the reply": once per event, from the first card that names entities.
                reply = entity_reply(shown) if queued.created else None
                if reply is not None:  # threaded under the card, on the sinks the card went to, once per event
                    replied = enqueue(session, reply, settings=self.settings, now=now, sinks=queued.sinks)
                    enqueued += (replied.dedup_key,) if replied.created else ()
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

    def _live_alerts(self) -> bool:
        return self.options.alerts and not self.options.backfill

    def _matcher_for(self, session: Session) -> Matcher:
        """The matcher, rebuilt only when the universe changed (an import from another process included)."""
        current = fingerprint(session)
        if self._matcher is None or current != self._fingerprint:
            self._matcher = build_matcher(session, self.settings.matching)
            self._spotter = build_spotter(self._matcher.index.securities.values())
            self._fingerprint = fingerprint(session)  # seeding may have just filled an empty universe
        return self._matcher

    def _quotes(
        self, best: Mapping[str, Match], securities: Mapping[str, Any], announced_at: datetime, now: datetime
    ) -> dict[str, Any]:
        """Last price and move since the announcement for the confirmed securities, within the time budget."""
        from monitor.prices.quotes import last_quote

        if self.price_source is None:
            return {}
        quotes: dict[str, Any] = {}
        deadline = time.monotonic() + self.options.quote_budget_seconds
        for symbol, match in best.items():
            if not match.confirmed or symbol not in securities:
                continue
            if time.monotonic() > deadline:
                log.warning("quote_budget_exhausted", remaining=symbol)
                break
            try:
                quote = last_quote(
                    self.price_source,
                    symbol,
                    announced_at,
                    now=now,
                    calendars=self.calendars,
                    mic=securities[symbol].exchange_mic,
                )
            except MonitorError as exc:  # a rate limit: the alert goes out without prices rather than late
                log.warning("quote_failed", symbol=symbol, error=str(exc))
                break
            if quote is not None:
                quotes[symbol] = quote
        return quotes

    # --- prices and studies ------------------------------------------------------------------------------------

    def _open_studies_clause(self) -> Any:
        """Studies still worth computing: pending or partial, or recently left without usable prices."""
        retry_from = self.clock.now() - timedelta(days=self.options.retry_days)
        return or_(
            Study.status.in_(OPEN_STUDY),
            and_(Study.status.in_(RETRY_STUDY), EventRow.announced_at >= retry_from),
        )

    def open_events(self, event_ids: Sequence[int] | None = None) -> list[int]:
        """Events with a study still to compute, announced within ``max_open_days``."""
        cutoff = self.clock.now() - timedelta(days=self.options.max_open_days)
        query = (
            select(EventRow.id)
            .join(Study, Study.event_id == EventRow.id)
            .where(EventRow.announced_at >= cutoff, self._open_studies_clause())
            .group_by(EventRow.id, EventRow.announced_at)
            .order_by(EventRow.announced_at)
        )
        if event_ids is not None:
            query = query.where(EventRow.id.in_(list(event_ids)))
        with self.sessions() as session:
            return [int(event_id) for event_id in session.scalars(query)]

    def refresh_prices(self, *, calendar: str | None = None) -> list[RefreshResult]:
        """Fetch new bars for the open events' securities and benchmarks (one exchange's, when given)."""
        if self.price_source is None:
            return []
        events = self.open_events()
        with self.sessions() as session:
            rows = session.execute(
                select(Study.symbol, Study.benchmark, SecurityRow.exchange_mic)
                .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
                .join(EventRow, EventRow.id == Study.event_id)
                .where(Study.event_id.in_(events), self._open_studies_clause())
            ).all()
        wanted: dict[str, str | None] = {}
        for symbol, benchmark, mic in rows:
            if calendar is None or listing(symbol, mic=mic).calendar == calendar:
                wanted[symbol] = mic
                wanted.setdefault(benchmark, None)
        if not wanted:
            return []
        mics = {symbol: mic for symbol, mic in wanted.items() if mic}
        return self.store.refresh_many(list(wanted), self.price_source, mics=mics)

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
            by_calendar: dict[str, list[Any]] = {}
            for result in run.result.securities:
                mic = meta[result.symbol].exchange_mic if result.symbol in meta else None
                by_calendar.setdefault(listing(result.symbol, mic=mic).calendar, []).append(result)
            for calendar, results in sorted(by_calendar.items()):
                day0 = next((r.day0 for r in results if r.day0 is not None), None)
                if day0 is None:
                    continue
                for due in due_stages(
                    self.calendars,
                    calendar,
                    day0,
                    now=now,
                    margin_minutes=self.settings.prices.bar_margin_minutes,
                    window=self.params.window,
                    covered_through=covered_through(results),
                ):
                    alert = follow_up(
                        event_id=event_id,
                        document_number=document.document_number,
                        title=event.title,
                        announced_at=event.announced_at,
                        federal_register_url=document.html_url,
                        calendar=calendar,
                        due=due,
                        results=results,
                        groups=run.groups,
                        params=self.params,
                        meta=meta,
                    )
                    queued = enqueue(session, alert, settings=self.settings, now=now)
                    if queued.created:
                        enqueued.append(queued.dedup_key)
        if enqueued:
            log.info("follow_ups_queued", event_id=event_id, alerts=enqueued)
        return len(run.result.securities), tuple(enqueued)


__all__ = ["OPEN_STUDY", "RETRY_STUDY", "ArrivalOutcome", "Pipeline", "PipelineOptions", "StudyUpdate"]
