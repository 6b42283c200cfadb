"""What the monitor knows about each event, read back from storage for ``monitor events list`` and ``events show``.

The list is one bulk query per table (not one per event), so it stays quick over years of backfilled rules; the
detail view reads one event in full: its rule, the entities the rule names, every match with the matcher's reason,
each study's status and headline numbers, the event's headline tests and the alert thread as delivered.
Both return plain data with a ``to_dict`` whose shape is what ``--json`` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.db.tables import (
    AlertDelivery,
    AlertRow,
    Document,
    EventRow,
    EventStatistic,
    ListingActionRow,
    MatchRow,
    SecurityRow,
    Study,
)

# The study words the list counts in columns of their own; any other status is counted under "other".
SHOWN_STATUSES = ("complete", "partial", "pending")
HEADLINE_TESTS = ("kp_bmp_t", "portfolio_t", "rank_z")  # robust to the shared event date, as `monitor study`


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class LastAlert:
    stage: str
    symbol: str | None
    due_at: datetime
    status: str  # the best of its deliveries: sent, sending, pending, dead (or "none" when routed nowhere)

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "symbol": self.symbol, "due_at": _iso(self.due_at), "status": self.status}


@dataclass(frozen=True)
class EventSummary:
    """One line of ``monitor events list``."""

    event_id: int
    document_number: str
    title: str
    announced_at: datetime
    announced_source: str
    parse_status: str
    entities: int
    matched: int  # distinct securities with a confirmed match
    review: int  # distinct securities matched for review only
    studies: dict[str, int]  # status -> count, every status
    last_alert: LastAlert | None

    def study_count(self, status: str) -> int:
        if status == "other":
            return sum(n for s, n in self.studies.items() if s not in SHOWN_STATUSES)
        return self.studies.get(status, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "document_number": self.document_number,
            "title": self.title,
            "announced_at": _iso(self.announced_at),
            "announced_source": self.announced_source,
            "parse_status": self.parse_status,
            "entities": self.entities,
            "matched": self.matched,
            "review": self.review,
            "studies": {
                **{status: self.study_count(status) for status in (*SHOWN_STATUSES, "other")},
                "by_status": dict(sorted(self.studies.items())),
            },
            "last_alert": self.last_alert.to_dict() if self.last_alert else None,
        }


_DELIVERY_RANK = {"sent": 0, "sending": 1, "pending": 2, "dead": 3}


def _best(statuses: Iterable[str]) -> str:
    ranked = sorted(statuses, key=lambda s: _DELIVERY_RANK.get(s, 9))
    return ranked[0] if ranked else "none"


def list_events(
    session: Session,
    *,
    since: date | None = None,
    status: str | None = None,
    limit: int | None = None,
    event_id: int | None = None,
) -> list[EventSummary]:
    """Every event, newest announcement first; ``since`` keeps announcements on or after that day (UTC),
    ``status`` the events with at least one study in that status ("other": any status but the shown ones)."""
    query = (
        select(EventRow, Document.document_number, Document.parse_status)
        .join(Document, Document.id == EventRow.document_id)
        .order_by(EventRow.announced_at.desc(), EventRow.id.desc())
    )
    if since is not None:
        from datetime import UTC, time

        query = query.where(EventRow.announced_at >= datetime.combine(since, time(0), tzinfo=UTC))
    if event_id is not None:
        query = query.where(EventRow.id == event_id)
    rows = session.execute(query).all()
    ids = [event.id for event, _, _ in rows]
    if not ids:
        return []
    documents = {event.id: event.document_id for event, _, _ in rows}
    entities: Counter[int] = Counter()
    for document_id, count in session.execute(
        select(ListingActionRow.document_id, func.count())
        .where(ListingActionRow.document_id.in_(list(documents.values())))
        .group_by(ListingActionRow.document_id)
    ):
        entities[document_id] = count
    matched: dict[int, dict[int, bool]] = {}  # document -> security -> confirmed by any match
    for document_id, security_id, confirmed in session.execute(
        select(ListingActionRow.document_id, MatchRow.security_id, MatchRow.confirmed)
        .join(ListingActionRow, ListingActionRow.id == MatchRow.listing_action_id)
        .where(ListingActionRow.document_id.in_(list(documents.values())))
    ):
        securities = matched.setdefault(document_id, {})
        securities[security_id] = securities.get(security_id, False) or bool(confirmed)
    studies: dict[int, Counter[str]] = {}
    for event_id, study_status, count in session.execute(
        select(Study.event_id, Study.status, func.count())
        .where(Study.event_id.in_(ids))
        .group_by(Study.event_id, Study.status)
    ):
        studies.setdefault(event_id, Counter())[study_status] = count
    last = _last_alerts(session, ids)
    out: list[EventSummary] = []
    for event, number, parse_status in rows:
        securities = matched.get(event.document_id, {})
        counts = dict(studies.get(event.id, Counter()))
        summary = EventSummary(
            event_id=event.id,
            document_number=number,
            title=" ".join(event.title.split()),
            announced_at=event.announced_at,
            announced_source=event.announced_source,
            parse_status=parse_status,
            entities=entities[event.document_id],
            matched=sum(1 for confirmed in securities.values() if confirmed),
            review=sum(1 for confirmed in securities.values() if not confirmed),
            studies=counts,
            last_alert=last.get(event.id),
        )
        if status is not None and summary.study_count(status) == 0:
            continue
        out.append(summary)
        if limit is not None and len(out) >= limit:
            break
    return out


def _last_alerts(session: Session, event_ids: list[int]) -> dict[int, LastAlert]:
    latest: dict[int, AlertRow] = {}
    for alert in session.scalars(select(AlertRow).where(AlertRow.event_id.in_(event_ids))):
        assert alert.event_id is not None
        held = latest.get(alert.event_id)
        if held is None or (alert.due_at, alert.id) > (held.due_at, held.id):
            latest[alert.event_id] = alert
    if not latest:
        return {}
    statuses: dict[int, list[str]] = {}
    for alert_id, status in session.execute(
        select(AlertDelivery.alert_id, AlertDelivery.status).where(
            AlertDelivery.alert_id.in_([a.id for a in latest.values()])
        )
    ):
        statuses.setdefault(alert_id, []).append(status)
    return {
        event_id: LastAlert(alert.stage, alert.symbol, alert.due_at, _best(statuses.get(alert.id, [])))
        for event_id, alert in latest.items()
    }


# --- one event in full ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityDetail:
    seq: int
    action: str
    name: str
    aliases: list[str]
    country: str | None
    addresses: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "name": self.name,
            "aliases": self.aliases,
            "country": self.country,
            "addresses": self.addresses,
        }


@dataclass(frozen=True)
class MatchDetail:
    entity: str
    symbol: str
    issuer: str
    relation: str
    score: float
    confirmed: bool
    method: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "symbol": self.symbol,
            "issuer": self.issuer,
            "relation": self.relation,
            "score": self.score,
            "confirmed": self.confirmed,
            "method": self.method,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StudyDetail:
    symbol: str
    relation: str | None
    benchmark: str
    status: str
    reason: str | None
    day0: date | None
    through: date | None
    window: tuple[int, int]
    ar_day0: float | None  # the [0,0] CAR: the day-0 abnormal return (to the first trade when halted)
    car: float | None  # over the event window
    car_t: float | None
    car_p: float | None
    bhar: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "relation": self.relation,
            "benchmark": self.benchmark,
            "status": self.status,
            "reason": self.reason,
            "day0": _iso(self.day0),
            "through": _iso(self.through),
            "window": list(self.window),
            "ar_day0": self.ar_day0,
            "car": self.car,
            "car_t": self.car_t,
            "car_p": self.car_p,
            "bhar": self.bhar,
        }


@dataclass(frozen=True)
class GroupDetail:
    group: str
    n: int
    caar: float | None
    tests: dict[str, float | None]  # the headline tests of the event window
    p_values: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "n": self.n, "caar": self.caar, "tests": self.tests, "p_values": self.p_values}


@dataclass(frozen=True)
class DeliveryDetail:
    sink: str
    status: str
    attempts: int
    sent_at: datetime | None
    thread_ref: str | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "status": self.status,
            "attempts": self.attempts,
            "sent_at": _iso(self.sent_at),
            "thread_ref": self.thread_ref,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class AlertDetail:
    alert_id: int
    stage: str
    symbol: str | None
    group: str | None
    due_at: datetime
    deliveries: list[DeliveryDetail]

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "stage": self.stage,
            "symbol": self.symbol,
            "group": self.group,
            "due_at": _iso(self.due_at),
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


@dataclass(frozen=True)
class EventDetail:
    summary: EventSummary
    html_url: str | None
    publication_date: date | None
    filed_at: datetime | None
    parse_error: str | None
    is_backfill: bool
    entities: list[EntityDetail] = field(default_factory=list)
    matches: list[MatchDetail] = field(default_factory=list)
    studies: list[StudyDetail] = field(default_factory=list)
    groups: list[GroupDetail] = field(default_factory=list)
    alerts: list[AlertDetail] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "html_url": self.html_url,
            "publication_date": _iso(self.publication_date),
            "filed_at": _iso(self.filed_at),
            "parse_error": self.parse_error,
            "is_backfill": self.is_backfill,
            "entity_list": [e.to_dict() for e in self.entities],
            "matches": [m.to_dict() for m in self.matches],
            "study_results": [s.to_dict() for s in self.studies],
            "groups": [g.to_dict() for g in self.groups],
            "alerts": [a.to_dict() for a in self.alerts],
        }


def _day0_car(sub_windows: dict[str, Any] | None) -> float | None:
    value = (sub_windows or {}).get("[0,0]")
    car = value.get("car") if isinstance(value, dict) else None
    return float(car) if isinstance(car, int | float) else None


def event_ids(session: Session) -> list[int]:
    """Every stored event's number, ascending (to tell a user which numbers exist)."""
    return list(session.scalars(select(EventRow.id).order_by(EventRow.id)))


def show_event(session: Session, event_id: int) -> EventDetail | None:
    """One event in full, or None when there is no event with that number."""
    found = session.execute(
        select(EventRow, Document).join(Document, Document.id == EventRow.document_id).where(EventRow.id == event_id)
    ).one_or_none()
    if found is None:
        return None
    event, document = found
    [summary] = list_events(session, event_id=event_id)
    actions = list(
        session.scalars(
            select(ListingActionRow)
            .where(ListingActionRow.document_id == document.id)
            .order_by(ListingActionRow.seq, ListingActionRow.id)
        )
    )
    entities = [
        EntityDetail(a.seq, a.action, a.entity_name, list(a.aliases or []), a.country_iso or a.country or None,
                     list(a.addresses or []))
        for a in actions
    ]  # fmt: skip
    names = {a.id: a.entity_name for a in actions}
    matches = [
        MatchDetail(names[m.listing_action_id], symbol, issuer, m.relation, m.score, m.confirmed, m.method, m.reason)
        for m, symbol, issuer in session.execute(
            select(MatchRow, SecurityRow.symbol, SecurityRow.issuer_name)
            .join(SecurityRow, SecurityRow.id == MatchRow.security_id)
            .where(MatchRow.listing_action_id.in_(list(names)))
            .order_by(MatchRow.confirmed.desc(), MatchRow.score.desc(), SecurityRow.symbol)
        )
    ]
    studies = [
        StudyDetail(
            s.symbol, s.relation, s.benchmark, s.status, s.reason, s.day0, s.through_date,
            (s.window_start, s.window_end), _day0_car(s.sub_windows), s.car, s.car_t, s.car_p, s.bhar,
        )
        for s in session.scalars(select(Study).where(Study.event_id == event_id).order_by(Study.symbol))
    ]  # fmt: skip
    groups = [
        GroupDetail(
            stat.group_key,
            stat.n,
            stat.caar,
            {name: (stat.tests or {}).get(name) for name in HEADLINE_TESTS},
            {name: ((stat.tests or {}).get("p_values") or {}).get(name) for name in HEADLINE_TESTS},
        )
        for stat in session.scalars(
            select(EventStatistic).where(EventStatistic.event_id == event_id).order_by(EventStatistic.group_key)
        )
    ]
    groups.sort(key=lambda g: (g.group != "all", g.group))
    return EventDetail(
        summary=summary,
        html_url=document.html_url,
        publication_date=document.publication_date,
        filed_at=document.filed_at,
        parse_error=document.parse_error,
        is_backfill=event.is_backfill,
        entities=entities,
        matches=matches,
        studies=studies,
        groups=groups,
        alerts=_thread(session, event_id),
    )


def _thread(session: Session, event_id: int) -> list[AlertDetail]:
    alerts = list(
        session.scalars(select(AlertRow).where(AlertRow.event_id == event_id).order_by(AlertRow.due_at, AlertRow.id))
    )
    deliveries: dict[int, list[DeliveryDetail]] = {}
    if alerts:
        for d in session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.alert_id.in_([a.id for a in alerts]))
            .order_by(AlertDelivery.alert_id, AlertDelivery.sink)
        ):
            deliveries.setdefault(d.alert_id, []).append(
                DeliveryDetail(d.sink, d.status, d.attempts, d.sent_at, d.thread_ref, d.last_error)
            )
    return [AlertDetail(a.id, a.stage, a.symbol, a.group_key, a.due_at, deliveries.get(a.id, [])) for a in alerts]
