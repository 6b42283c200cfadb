"""The pipeline's writes of an event and its studies, and the reads that go with them, inside a caller's
transaction: the event row upserted on its document, a pending study per confirmed security with its day 0, and the
``detected`` cards already enqueued for the event (and the card's payload replaced on reconcile)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.db.tables import AlertRow, EventRow, Study
from monitor.db.upsert import upsert
from monitor.errors import MonitorError
from monitor.logs import get_logger
from monitor.models import AlertStage, AnnouncementSource, Match, Security, StudyStatus
from monitor.outbox import DetectedAlert
from monitor.prices.calendars import Calendars
from monitor.study import StudyParams

log = get_logger(__name__)


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
    if announced_at < event.announced_at or source.value == "override":
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
    """A pending study per confirmed security; day 0 is (re)computed from the event's announcement."""
    existing = {study.symbol: study for study in session.scalars(select(Study).where(Study.event_id == event.id))}
    for symbol, match in best.items():
        security = securities.get(symbol)
        if not match.confirmed or security is None:
            continue
        try:
            day0 = calendars.day0(symbol, event.announced_at, mic=security.exchange_mic)
        except MonitorError as exc:  # a calendar past its data: the study stays pending, never guessed
            log.warning("day0_unavailable", symbol=symbol, event_id=event.id, error=str(exc))
            day0 = None
        study = existing.get(symbol)
        if study is None:
            session.add(
                Study(
                    event_id=event.id,
                    symbol=symbol,
                    relation=match.relation.value,
                    benchmark=security.benchmark,
                    status=StudyStatus.PENDING.value,
                    day0=day0,
                    model=params.model,
                    estimation=params.estimation,
                    gap=params.gap,
                    window_start=params.window[0],
                    window_end=params.window[1],
                )
            )
        else:
            study.relation = match.relation.value
            study.day0 = day0


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
