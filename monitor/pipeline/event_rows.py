"""The pipeline's writes of an event and its studies, and the reads that go with them, inside a caller's
transaction: the event row upserted on its document, a pending study per confirmed security with its day 0, the
``detected`` cards already enqueued for the event, the documents a crash left without an event, and the listings
and bars of the open studies (and the card's payload replaced on reconcile)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Settings
from monitor.db.tables import AlertRow, Document, EventRow, SecurityRow, Study
from monitor.db.tables.prices import DailyPrice
from monitor.db.upsert import upsert
from monitor.errors import MonitorError
from monitor.feeds.store import due_documents
from monitor.logs import get_logger
from monitor.models import (
    OPEN_STUDY_STATUSES,
    RETRY_STUDY_STATUSES,
    AlertStage,
    AnnouncementSource,
    Match,
    Security,
    StudyStatus,
)
from monitor.outbox import DetectedAlert, ReconcileAlert, enqueue
from monitor.pipeline.detected import entity_reply
from monitor.pipeline.reconcile import root_key
from monitor.pipeline.studies import not_trading
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing
from monitor.study import StudyParams

log = get_logger(__name__)

OPEN_STUDY = tuple(status.value for status in OPEN_STUDY_STATUSES)
# No usable prices yet (a source outage at day 0, a feed lagging): retried for ``retry_days``, then left alone.
RETRY_STUDY = tuple(status.value for status in RETRY_STUDY_STATUSES)


@dataclass(frozen=True)
class OpenWindow:
    """Which events are still studied: announced since ``announced_since``; their pending or partial studies, and
    those left without usable prices by an event announced since ``retry_since``."""

    announced_since: datetime
    retry_since: datetime

    @classmethod
    def at(cls, now: datetime, max_open_days: int, retry_days: int) -> OpenWindow:
        return cls(now - timedelta(days=max_open_days), now - timedelta(days=retry_days))

    def studies(self) -> ColumnElement[bool]:
        return or_(
            Study.status.in_(OPEN_STUDY),
            and_(Study.status.in_(RETRY_STUDY), EventRow.announced_at >= self.retry_since),
        )


def upsert_event(
    session: Session,
    document_id: int,
    title: str,
    announced_at: datetime,
    source: AnnouncementSource,
    now: datetime,
    *,
    backfill: bool,
    alerts: bool,
) -> tuple[EventRow, bool]:
    """The document's event and whether this call created it; an existing one is re-dated when the new date is
    earlier, or set by an override."""
    by_document = select(EventRow).where(EventRow.document_id == document_id)
    event = session.scalars(by_document).first()
    if event is None:
        # ON CONFLICT DO NOTHING: another worker (a replica's poll, the daemon's catch-up) may be creating this
        # event right now; PostgreSQL makes the insert wait for that transaction and then skip, not fail.
        row = {
            "document_id": document_id,
            "announced_at": announced_at,
            "announced_source": source.value,
            "title": title,
            "is_backfill": backfill,
            "alerts_enabled": alerts,
            "created_at": now,
        }
        created = upsert(session, EventRow, [row], key=["document_id"], do_nothing=True) == 1
        event = session.scalars(by_document).one()
        if created:
            return event, True
    event.title = title
    if announced_at < event.announced_at or source is AnnouncementSource.OVERRIDE:
        log.info("event_redated", event_id=event.id, was=event.announced_at.isoformat(), now=announced_at.isoformat())
        event.announced_at = announced_at
        event.announced_source = source.value
    return event, False


def open_studies(
    session: Session,
    event: EventRow,
    best: Mapping[str, Match],
    securities: Mapping[str, Security],
    *,
    calendars: Calendars,
    params: StudyParams,
) -> None:
    """A pending study per confirmed security; day 0 is (re)computed from the event's announcement.

    New studies go in as one multi-row insert, not as ORM objects: a backfill opens tens of thousands, and the
    session's unit of work cost more than the rest of each rule's matching and storing."""
    existing = {study.symbol: study for study in session.scalars(select(Study).where(Study.event_id == event.id))}
    day0s: dict[str, date | MonitorError] = {}  # per exchange calendar: every security of one shares its day 0
    fresh: list[dict[str, Any]] = []
    for symbol, match in best.items():
        security = securities.get(symbol)
        if not match.confirmed or security is None:
            continue
        found = _day0(calendars, symbol, security.exchange_mic, event.announced_at, day0s)
        day0 = found if isinstance(found, date) else None
        if isinstance(found, MonitorError):  # a calendar past its data: the study stays pending, never guessed
            log.warning("day0_unavailable", symbol=symbol, event_id=event.id, error=str(found))
        study = existing.get(symbol)
        if study is None:
            # From the universe's listing dates: SenseTime (listed 2021) for a 2019 rule is listed_later at once.
            status, reason = not_trading(
                security.listed_on, security.delisted_on, day0 or event.announced_at.date()
            ) or (StudyStatus.PENDING, None)
            fresh.append(
                {
                    "event_id": event.id,
                    "symbol": symbol,
                    "relation": match.relation.value,
                    "benchmark": security.benchmark,
                    "status": status.value,
                    "reason": reason,
                    "day0": day0,
                    "model": params.model,
                    "estimation": params.estimation,
                    "gap": params.gap,
                    "window_start": params.window[0],
                    "window_end": params.window[1],
                }
            )
        else:
            study.relation = match.relation.value
            study.day0 = day0
    if fresh:
        session.execute(insert(Study), fresh)  # in ``best``'s order, as the objects were flushed


def _day0(
    calendars: Calendars, symbol: str, mic: str | None, announced_at: datetime, known: dict[str, date | MonitorError]
) -> date | MonitorError:
    """The security's day 0 on its exchange, worked out once per calendar (``known``), or why there is none."""
    try:
        calendar = calendars.name_for(symbol, mic=mic)
    except MonitorError as exc:
        return exc
    if calendar not in known:
        try:
            known[calendar] = calendars.day0_on(calendar, announced_at)
        except MonitorError as exc:
            known[calendar] = exc
    return known[calendar]


def enqueue_card(
    session: Session, card: DetectedAlert | ReconcileAlert, *, settings: Settings, now: datetime
) -> tuple[str, ...]:
    """Enqueue a card (or the reconcile reply that updates the event's card) and, the first time one names entities,
    the entity list as a reply threaded under it on the sinks the card went to; returns the keys newly enqueued.
    Only the writer of a reconcile reply replaces the card's stored payload with the published facts."""
    queued = enqueue(session, card, settings=settings, now=now)
    if not queued.created:
        return ()
    enqueued: tuple[str, ...] = (queued.dedup_key,)
    shown = card.card if isinstance(card, ReconcileAlert) else card
    if isinstance(card, ReconcileAlert):
        replace_card(session, root_key(card.event_id), shown)
    reply = entity_reply(shown)
    if reply is not None:  # once per event
        replied = enqueue(session, reply, settings=settings, now=now, sinks=queued.sinks)
        enqueued += (replied.dedup_key,) if replied.created else ()
    return enqueued


def detected_payloads(session: Session, event_id: int) -> list[dict[str, Any]]:
    """The payloads of the ``detected`` cards already enqueued for the event, oldest first."""
    return list(
        session.scalars(
            select(AlertRow.payload)
            .where(AlertRow.event_id == event_id, AlertRow.stage == AlertStage.DETECTED.value)
            .order_by(AlertRow.id)
        ).all()
    )


def replace_card(session: Session, key: str, card: DetectedAlert) -> None:
    """Store ``card`` as the payload of the card ``key`` (the published facts replace the PI-time ones), so the
    root message updated by the reconcile reply, and later follow-ups, show what the published rule says."""
    session.execute(update(AlertRow).where(AlertRow.dedup_key == key).values(payload=card.model_dump(mode="json")))


def documents_to_catch_up(
    session: Session, since: datetime | None
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """``(due, rechecks)``: Entity List documents the pipeline has not finished (``monitor.feeds.store.
    due_documents``: marked due, or without an event), and (with ``since``) the others first seen since then, each
    as ``(id, document number)``, oldest first."""
    due = [(document.id, document.document_number) for document in due_documents(session)]
    rechecks: list[tuple[int, str]] = []
    if since is not None:
        recently = (
            select(Document.id, Document.document_number)
            .where(
                Document.is_entity_list.is_(True),
                Document.id.in_(select(EventRow.document_id)),
                Document.first_seen_at >= since,
            )
            .order_by(Document.first_seen_at, Document.id)
        )
        done = {document_id for document_id, _ in due}
        rechecks = [(int(i), str(n)) for i, n in session.execute(recently) if int(i) not in done]
    return due, rechecks


def open_calendars(session: Session, event_ids: Sequence[int], window: OpenWindow) -> set[str]:
    """The exchange calendars of the studies of ``event_ids`` still worth computing: open ones and those retried
    within ``retry_days`` (a benchmark gap, a bad price, missing data), the very studies ``studied_listings`` hands
    the price refresh, so each of their exchanges' closes triggers one (a listing no exchange knows is logged,
    skipped)."""
    rows = session.execute(
        select(Study.symbol, SecurityRow.exchange_mic)
        .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
        .join(EventRow, EventRow.id == Study.event_id)
        .where(Study.event_id.in_(list(event_ids)), window.studies())
    ).all()
    names: set[str] = set()
    for symbol, mic in rows:
        try:
            names.add(listing(str(symbol), mic=mic).calendar)
        except MonitorError as exc:
            log.warning("unknown_listing", symbol=symbol, error=str(exc))
    return names


def latest_open_bar(sessions: sessionmaker[Session]) -> date | None:
    """The newest stored bar of any security with a pending or partial study."""
    studied = select(Study.symbol).where(Study.status.in_(OPEN_STUDY))
    with sessions() as session:
        query = select(func.max(DailyPrice.date)).where(DailyPrice.symbol.in_(studied))
        newest = session.execute(query).scalar_one_or_none()
    return newest if isinstance(newest, date) else None


def open_events(session: Session, window: OpenWindow, event_ids: Sequence[int] | None = None) -> list[int]:
    """Events with a study still to compute (of ``event_ids``, when given), oldest announcement first."""
    query = (
        select(EventRow.id)
        .join(Study, Study.event_id == EventRow.id)
        .where(EventRow.announced_at >= window.announced_since, window.studies())
        .group_by(EventRow.id, EventRow.announced_at)
        .order_by(EventRow.announced_at)
    )
    if event_ids is not None:
        query = query.where(EventRow.id.in_(list(event_ids)))
    return [int(event_id) for event_id in session.scalars(query)]


def studied_listings(
    session: Session, event_ids: Sequence[int], window: OpenWindow
) -> list[tuple[str, str, str | None]]:
    """``(symbol, benchmark, exchange MIC or None)`` of the studies of ``event_ids`` still worth computing."""
    rows = session.execute(
        select(Study.symbol, Study.benchmark, SecurityRow.exchange_mic)
        .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
        .join(EventRow, EventRow.id == Study.event_id)
        .where(Study.event_id.in_(list(event_ids)), window.studies())
    ).all()
    return [(str(symbol), str(benchmark), mic) for symbol, benchmark, mic in rows]
