"""What a backfill did, read back from the database so a resumed run reports the whole range, not its last leg."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.db.tables import Document, EventRow, ListingActionRow, MatchRow, Study
from monitor.models import StudyStatus


@dataclass(frozen=True)
class Failure:
    """Something a trader or operator should know about; ``retryable`` ones may be cured by running again."""

    stage: str  # search | filing | rule | prices | study
    item: str  # document number, symbol or "event N"
    reason: str
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "item": self.item, "reason": self.reason, "retryable": self.retryable}


@dataclass(frozen=True)
class EventLine:
    event_id: int
    document_number: str
    title: str
    announced_at: datetime
    announced_source: str
    entities: int
    confirmed: int
    review: int
    studies: dict[str, int]  # status -> count

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "document_number": self.document_number,
            "title": self.title,
            "announced_at": self.announced_at.isoformat(),
            "announced_source": self.announced_source,
            "entities": self.entities,
            "confirmed": self.confirmed,
            "review": self.review,
            "studies": dict(self.studies),
        }


@dataclass
class BackfillSummary:
    since: date
    until: date | None
    searched: int = 0  # documents the Federal Register search returned
    new_documents: int = 0  # first stored by this run
    prices_fetched: int = 0  # symbols refreshed
    events: list[EventLine] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False
    elapsed_seconds: float = 0.0

    @property
    def rules(self) -> int:
        return len(self.events)

    @property
    def entities(self) -> int:
        return sum(e.entities for e in self.events)

    @property
    def confirmed(self) -> int:
        return sum(e.confirmed for e in self.events)

    @property
    def review(self) -> int:
        return sum(e.review for e in self.events)

    @property
    def studies(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for event in self.events:
            total.update(event.studies)
        return dict(sorted(total.items()))

    @property
    def ok(self) -> bool:
        """Finished, with nothing a rerun could fix (data gaps such as a listing without prices are not errors)."""
        return not self.interrupted and not any(f.retryable for f in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "interrupted": self.interrupted,
            "ok": self.ok,
            "searched": self.searched,
            "new_documents": self.new_documents,
            "rules": self.rules,
            "entities": self.entities,
            "matches": {"confirmed": self.confirmed, "review": self.review},
            "studies": self.studies,
            "prices_fetched": self.prices_fetched,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "events": [event.to_dict() for event in self.events],
            "failures": [failure.to_dict() for failure in self.failures],
        }


def event_lines(session: Session, event_ids: Sequence[int]) -> list[EventLine]:
    """One line per event, in the order given, with its entity, match and study counts."""
    if not event_ids:
        return []
    ids = list(event_ids)
    events = {
        row.id: (row, number)
        for row, number in session.execute(
            select(EventRow, Document.document_number)
            .join(Document, Document.id == EventRow.document_id)
            .where(EventRow.id.in_(ids))
        ).all()
    }
    document_ids = [row.document_id for row, _ in events.values()]
    entities = dict(
        session.execute(
            select(ListingActionRow.document_id, func.count())
            .where(ListingActionRow.document_id.in_(document_ids))
            .group_by(ListingActionRow.document_id)
        ).all()
    )
    confirmed: dict[int, set[int]] = {}
    review: dict[int, set[int]] = {}
    for document_id, security_id, is_confirmed in session.execute(
        select(ListingActionRow.document_id, MatchRow.security_id, MatchRow.confirmed)
        .join(MatchRow, MatchRow.listing_action_id == ListingActionRow.id)
        .where(ListingActionRow.document_id.in_(document_ids))
        .distinct()
    ).all():
        (confirmed if is_confirmed else review).setdefault(int(document_id), set()).add(int(security_id))
    statuses: dict[int, dict[str, int]] = {}
    for event_id, status, count in session.execute(
        select(Study.event_id, Study.status, func.count())
        .where(Study.event_id.in_(ids))
        .group_by(Study.event_id, Study.status)
    ).all():
        statuses.setdefault(int(event_id), {})[str(status)] = int(count)
    lines: list[EventLine] = []
    for event_id in ids:
        if event_id not in events:
            continue
        row, number = events[event_id]
        lines.append(
            EventLine(
                event_id=event_id,
                document_number=number,
                title=row.title,
                announced_at=row.announced_at,
                announced_source=row.announced_source,
                entities=int(entities.get(row.document_id, 0)),
                confirmed=len(confirmed.get(row.document_id, set())),
                review=len(review.get(row.document_id, set()) - confirmed.get(row.document_id, set())),
                studies=dict(sorted(statuses.get(event_id, {}).items())),
            )
        )
    return lines


def study_notes(session: Session, event_ids: Sequence[int], *, pending: bool = True) -> list[Failure]:
    """Studies without a result, with the engine's reason (missing prices, a calendar past its data, a window
    still open); ``pending=False`` leaves out the ones an interrupted run simply had not reached."""
    unstudied = [StudyStatus.INSUFFICIENT_DATA, StudyStatus.ERROR] + ([StudyStatus.PENDING] if pending else [])
    statuses = [status.value for status in unstudied]
    rows = session.execute(
        select(Study.event_id, Study.symbol, Study.status, Study.reason)
        .where(Study.event_id.in_(list(event_ids)), Study.status.in_(statuses))
        .order_by(Study.event_id, Study.symbol)
    ).all()
    return [
        Failure("study", f"event {event_id} {symbol}", f"{status}: {reason or 'no reason recorded'}")
        for event_id, symbol, status, reason in rows
    ]
