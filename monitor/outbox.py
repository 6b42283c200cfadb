"""The write side of the alert outbox: typed alerts, their dedup keys, routing, and ``enqueue``.

The pipeline writes an alert in the same transaction as the facts it reports (a document and its matches, a study
update), so nothing can be lost between "we know" and "we will tell": ``enqueue`` only adds rows to the caller's
session and never commits. The delivery worker (``alerts.outbox``) sends them later; ``monitor/`` never imports it.

Routing is decided here, when the alert is enqueued, not when it is delivered. Each delivery row records which
securities its sink gets (``AlertDelivery.routing``), so what will be sent is fixed in the same transaction as the
facts, a retry after a settings change sends what was decided, and ``monitor alerts list`` can show it. Routes and
mutes therefore apply to alerts enqueued after a change (follow-ups are enqueued at their own time, so muting a
noisy symbol silences its next follow-ups); rows already queued are delivered as decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.clock import ensure_utc
from monitor.config import AlertRoute, AlertSettings, Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.db.upsert import upsert
from monitor.logs import get_logger
from monitor.models import ActionKind, AlertStage, AlertStatus, AnnouncementSource, ParseStatus, Relation, StudyStatus

log = get_logger(__name__)

FOLLOW_UP_STAGES: tuple[AlertStage, ...] = (AlertStage.DAY0, AlertStage.DAY1, AlertStage.DAY5, AlertStage.WINDOW_CLOSED)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- what a detected alert says ----------------------------------------------------------------------------------


class EntityLine(_Frozen):
    """One entity the rule adds (or revises or removes), as the rule names it."""

    name: str
    country: str | None = None
    action: ActionKind = ActionKind.ADD
    aliases: tuple[str, ...] = ()


class MatchedSecurity(_Frozen):
    """A listed security the rule touches, why, and how it has traded since the announcement."""

    symbol: str  # Yahoo-style: AMBA, 002415.SZ, 0981.HK
    issuer: str
    exchange_mic: str
    relation: Relation
    score: float = Field(ge=0, le=1)
    confirmed: bool = True  # False: in the review band, shown as such
    reason: str
    entity_name: str = ""  # the listed entity that brought this security in
    currency: str | None = None
    last_price: float | None = None
    last_price_at: AwareDatetime | None = None
    reference_price: float | None = None  # the last price before the announcement
    move: float | None = None  # last_price / reference_price - 1, a fraction
    extended_hours: bool = False  # last_price comes from pre- or post-market trading
    halted: bool = False  # the latest session had no trading (a suspension): last_price is older


class DetectedAlert(_Frozen):
    """A rule touching matched securities was filed (or published); the first message of an event's thread.

    A document that failed to parse still gets one (``parse_status`` failed, no entities), with its title and
    links, so a trader never misses a rule because the parser choked.
    """

    stage: Literal[AlertStage.DETECTED] = AlertStage.DETECTED
    event_id: int
    symbol: str | None = None  # set for a per-security alert; None for a group
    group: str = "all"
    document_number: str
    list_name: str = "Entity List"
    title: str
    action: str | None = None  # "Final rule."
    filed_by: tuple[str, ...] = ()  # agencies: "Industry and Security Bureau"
    filed_at: AwareDatetime | None = None  # public-inspection filing time
    filing_type: str | None = None  # "special" | "regular"
    announced_at: AwareDatetime
    announced_source: AnnouncementSource
    publication_date: date | None = None
    effective_on: date | None = None
    entities: tuple[EntityLine, ...] = ()
    securities: tuple[MatchedSecurity, ...] = ()
    federal_register_url: str | None = None
    public_inspection_pdf_url: str | None = None
    parse_status: ParseStatus = ParseStatus.PARSED
    parse_error: str | None = None

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.event_id, self.stage, symbol=self.symbol, group=self.group)


# --- what a follow-up says ---------------------------------------------------------------------------------------


class StudyLine(_Frozen):
    """One security's event study as of this stage."""

    symbol: str
    issuer: str = ""
    exchange_mic: str = ""
    relation: Relation
    score: float = Field(1.0, ge=0, le=1)
    entity_name: str = ""
    status: StudyStatus
    day0: date | None = None
    through: date | None = None  # the last session included
    rel_day: int | None = None  # the latest relative day included
    ar: float | None = None  # abnormal return on ``rel_day``; None on a halted session, never a zero
    car: float | None = None  # cumulative abnormal return over the alert's ``car_window``
    car_t: float | None = None
    halted: bool = False
    note: str | None = None  # "insufficient estimation data", "halted since day 0" ...


class TestStat(_Frozen):
    __test__ = False  # not a pytest class, whatever its name

    name: str  # "Patell Z", "BMP t", "Kolari-Pynnonen t", "Corrado rank"
    statistic: float | None = None
    p_value: float | None = None


class Headline(_Frozen):
    """A group's headline statistics: its cumulative average abnormal return and the tests on it."""

    group: str  # "all", "direct", "supplier" ...
    n: int = Field(ge=0)
    caar: float | None = None
    window: tuple[int, int]
    tests: tuple[TestStat, ...] = ()


class PathPoint(_Frozen):
    rel_day: int
    ar: float | None = None
    car: float | None = None


class ChartSeries(_Frozen):
    """One line of the AR/CAR chart: a security, or a group's average."""

    label: str
    points: tuple[PathPoint, ...]


class FollowUpAlert(_Frozen):
    """Day 0 close, day +1, day +5 and window closed: a reply in the detected message's thread."""

    stage: Literal[AlertStage.DAY0, AlertStage.DAY1, AlertStage.DAY5, AlertStage.WINDOW_CLOSED]
    event_id: int
    symbol: str | None = None
    group: str = "all"
    document_number: str
    list_name: str = "Entity List"
    title: str
    announced_at: AwareDatetime
    car_window: tuple[int, int]  # the days the reported CARs cover, e.g. (0, 1)
    securities: tuple[StudyLine, ...] = ()
    headlines: tuple[Headline, ...] = ()
    paths: tuple[ChartSeries, ...] = ()  # the AR/CAR path for the chart
    federal_register_url: str | None = None

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.event_id, self.stage, symbol=self.symbol, group=self.group)


class OperatorAlert(_Frozen):
    """Something an operator must look at: a delivery that went dead. Never about an event."""

    stage: Literal[AlertStage.OPERATOR] = AlertStage.OPERATOR
    key: str  # what makes it unique, e.g. "dead:slack:2019100721"
    summary: str
    detail: str | None = None
    failed_sink: str | None = None
    failed_delivery_id: int | None = None
    failed_dedup_key: str | None = None
    raised_at: AwareDatetime

    @property
    def dedup_key(self) -> str:
        return f"operator:{self.key}"


AnyAlert = DetectedAlert | FollowUpAlert | OperatorAlert
Alert = Annotated[AnyAlert, Field(discriminator="stage")]
_ALERT: TypeAdapter[AnyAlert] = TypeAdapter(Alert)


def parse_alert(payload: Mapping[str, Any]) -> AnyAlert:
    """An alert back from its stored payload."""
    return _ALERT.validate_python(payload)


def dedup_key(event_id: int, stage: AlertStage | str, *, symbol: str | None = None, group: str = "all") -> str:
    """``event:<id>:<s:SYMBOL | g:GROUP>:<stage>``: one alert per event, security or group, and stage."""
    subject = f"s:{symbol}" if symbol else f"g:{group}"
    return f"event:{event_id}:{subject}:{AlertStage(stage).value}"


# --- routing -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """What one sink gets of an alert: which securities (None: all) and which entity lines are hidden."""

    symbols: tuple[str, ...] | None = None
    hidden_entities: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "symbols": None if self.symbols is None else list(self.symbols),
            "hidden_entities": list(self.hidden_entities),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Routing:
        value = value or {}
        symbols = value.get("symbols")
        return cls(
            symbols=None if symbols is None else tuple(symbols),
            hidden_entities=tuple(value.get("hidden_entities") or ()),
        )


def configured_sinks(settings: Settings) -> tuple[str, ...]:
    """Slack when a bot token is set, the webhook when a URL is, the console otherwise (or when routed to)."""
    sinks: list[str] = []
    if settings.slack.enabled:
        sinks.append("slack")
    if settings.webhook.url:
        sinks.append("webhook")
    if not settings.slack.enabled or "console" in settings.alerts.routes:
        sinks.append("console")
    return tuple(sinks)


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


def route(alert: AnyAlert, sink: str, alerts: AlertSettings) -> Routing | None:
    """The part of ``alert`` that ``sink`` should get, or None when the sink's route wants none of it."""
    if isinstance(alert, OperatorAlert):
        return Routing()
    rule = alerts.routes.get(sink, AlertRoute())
    muted_symbols = {symbol.upper() for symbol in alerts.mute_symbols}
    muted_entities = {_norm(name) for name in alerts.mute_entities}

    def wanted(symbol: str, relation: Relation, score: float, entity: str) -> bool:
        return (
            symbol.upper() not in muted_symbols
            and (not entity or _norm(entity) not in muted_entities)
            and relation.value in rule.relations
            and score >= rule.min_score
        )

    hidden: tuple[str, ...] = ()
    if isinstance(alert, DetectedAlert):
        hidden = tuple(
            entity.name
            for entity in alert.entities
            if any(_norm(name) in muted_entities for name in (entity.name, *entity.aliases))
        )
        candidates = [(s.symbol, wanted(s.symbol, s.relation, s.score, s.entity_name)) for s in alert.securities]
        if not alert.securities and alert.entities and len(hidden) == len(alert.entities):
            return None  # a rule about muted entities only
    else:
        candidates = [(s.symbol, wanted(s.symbol, s.relation, s.score, s.entity_name)) for s in alert.securities]
    kept = tuple(symbol for symbol, keep in candidates if keep)
    if candidates and not kept:
        return None
    return Routing(symbols=None if len(kept) == len(candidates) else kept, hidden_entities=hidden)


def apply_routing(alert: AnyAlert, routing: Routing) -> AnyAlert:
    """The alert as one sink sees it: only its securities, muted entity lines removed."""
    if isinstance(alert, OperatorAlert):
        return alert
    keep = None if routing.symbols is None else set(routing.symbols)
    if isinstance(alert, DetectedAlert):
        hidden = set(routing.hidden_entities)
        return alert.model_copy(
            update={
                "securities": tuple(s for s in alert.securities if keep is None or s.symbol in keep),
                "entities": tuple(e for e in alert.entities if e.name not in hidden),
            }
        )
    if keep is None:
        return alert
    return alert.model_copy(
        update={
            "securities": tuple(s for s in alert.securities if s.symbol in keep),
            "paths": tuple(p for p in alert.paths if p.label in keep or p.label not in _symbols(alert)),
        }
    )


def _symbols(alert: FollowUpAlert) -> set[str]:
    return {line.symbol for line in alert.securities}


# --- enqueue -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enqueued:
    alert_id: int
    dedup_key: str
    created: bool  # False: the alert was already in the outbox and nothing was written
    sinks: tuple[str, ...]  # the deliveries this call created


def enqueue(
    session: Session,
    alert: AnyAlert,
    *,
    settings: Settings,
    now: datetime,
    due_at: datetime | None = None,
    sinks: Sequence[str] | None = None,
) -> Enqueued:
    """Add ``alert`` and one delivery per routed sink to ``session``; the caller's transaction commits.

    Idempotent on the dedup key: enqueueing the same alert again writes nothing, even if settings changed.
    ``sinks`` overrides the configured sinks (operator alerts use it to avoid the sink that failed).
    """
    now = ensure_utc(now, name="now")
    due = ensure_utc(due_at, name="due_at") if due_at is not None else now
    key = alert.dedup_key
    row = {
        "dedup_key": key,
        "event_id": None if isinstance(alert, OperatorAlert) else alert.event_id,
        "symbol": None if isinstance(alert, OperatorAlert) else alert.symbol,
        "group_key": None if isinstance(alert, OperatorAlert) else alert.group,
        "stage": alert.stage.value,
        "payload": alert.model_dump(mode="json"),
        "due_at": due,
    }
    created = upsert(session, AlertRow, [row], key=["dedup_key"], do_nothing=True) == 1
    alert_id = session.execute(select(AlertRow.id).where(AlertRow.dedup_key == key)).scalar_one()
    if not created:
        log.debug("alert_already_queued", dedup_key=key, alert_id=alert_id)
        return Enqueued(alert_id, key, created=False, sinks=())
    targets = tuple(sinks) if sinks is not None else configured_sinks(settings)
    deliveries: list[dict[str, Any]] = []
    for sink in targets:
        decision = route(alert, sink, settings.alerts)
        if decision is None:
            continue
        deliveries.append(
            {
                "alert_id": alert_id,
                "sink": sink,
                "status": AlertStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": due,
                "routing": decision.to_json(),
                "receipt": {},
            }
        )
    if deliveries:
        upsert(session, AlertDelivery, deliveries, key=["alert_id", "sink"], do_nothing=True)
    routed = tuple(d["sink"] for d in deliveries)
    log.info("alert_queued", dedup_key=key, alert_id=alert_id, stage=alert.stage.value, sinks=list(routed))
    return Enqueued(alert_id, key, created=True, sinks=routed)
