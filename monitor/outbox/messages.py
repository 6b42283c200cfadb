"""What an alert says: the typed alerts (detected, follow-ups, operator), their stored payloads and dedup keys.

Each alert is a frozen pydantic model; ``parse_alert`` reads one back from the payload stored in the outbox, and
``dedup_key`` names it uniquely (one alert per event, security or group, and stage).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from monitor.models import ActionKind, AlertStage, AnnouncementSource, ParseStatus, Relation, StudyStatus

FOLLOW_UP_STAGES: tuple[AlertStage, ...] = (AlertStage.DAY0, AlertStage.DAY1, AlertStage.DAY5, AlertStage.WINDOW_CLOSED)
# Every stage posted as a reply in the detected card's thread (the delivery worker waits for the card first).
THREAD_STAGES: tuple[AlertStage, ...] = (AlertStage.ENTITIES, AlertStage.RECONCILED, *FOLLOW_UP_STAGES)
# How many securities the card itself lists (ranked); the rest go to its first thread reply. Small enough that a
# card with this many fully-clipped lines stays within Slack's limits, large enough for nearly every rule.
CARD_SECURITIES = 15


TextVersion = Literal["public_inspection", "published"]


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
    revenue_share: float | None = Field(None, ge=0, le=1)  # of the supplier's (customer's) revenue, when disclosed
    share_source: str | None = None  # where the revenue share (or the exposure) comes from
    share_year: int | None = None  # the fiscal year the share is for


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
    # Which text the entities come from: the public-inspection filing (reconciled when the XML arrives) or the
    # published rule. None on cards stored before this was recorded.
    based_on: TextVersion | None = None

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.event_id, self.stage, symbol=self.symbol, group=self.group)


class EntityListReply(_Frozen):
    """The card's first thread reply: every entity the rule names, and the securities the card had no room for.

    Enqueued with the card (same transaction, same sinks), once per event: the card leads with securities and only
    counts entities, so a rule with 28 entities does not push its tickers below the fold.
    """

    stage: Literal[AlertStage.ENTITIES] = AlertStage.ENTITIES
    event_id: int
    symbol: None = None
    group: str = "all"
    document_number: str
    list_name: str = "Entity List"
    title: str
    entities: tuple[EntityLine, ...] = ()
    securities: tuple[MatchedSecurity, ...] = ()  # all of the card's; renderers list those past CARD_SECURITIES
    federal_register_url: str | None = None

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

    group: str  # "all", "direct", "supplier" ... ; "all exchanges" for the pool of every exchange
    n: int = Field(ge=0)  # securities whose window is complete: the only ones in ``caar`` and the tests
    n_matched: int | None = Field(None, ge=0)  # securities of the group matched to the rule, complete or not
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
    car_window: tuple[int, int]  # the days the reported CARs cover, e.g. (0, 1); headlines and chart use it too
    exchange: str | None = None  # the calendar whose close triggered it: "XSHG", "XNYS"
    exchange_name: str | None = None  # "Shanghai/Shenzhen", "New York"
    session: date | None = None  # the session that closed
    closed_at: AwareDatetime | None = None  # that session's close, in the exchange's own time zone
    time_zone: str | None = None  # the exchange's IANA zone, "Asia/Shanghai"
    n_complete: int | None = None  # this exchange's securities whose ``car_window`` is complete
    n_matched: int | None = None  # this exchange's securities matched to the rule
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


class EntityChange(_Frozen):
    """An entity the published rule names differently from the public-inspection text (aliases, country, action)."""

    name: str
    before: EntityLine
    after: EntityLine


class SecurityChange(_Frozen):
    """A security both versions touch, whose link changed (relation, confirmation, linking entity)."""

    symbol: str
    before: MatchedSecurity
    after: MatchedSecurity


class ReconcileAlert(_Frozen):
    """The published rule against the public-inspection card: one reply in the card's thread, once per event.

    ``card`` is the card rebuilt from the published facts; the pipeline stores it as the root card's payload in the
    same transaction, and a threading sink updates the root message with it (never a new top-level message).
    Empty change lists mean the published text confirms the filing.
    """

    stage: Literal[AlertStage.RECONCILED] = AlertStage.RECONCILED
    event_id: int
    symbol: None = None
    group: str = "all"
    document_number: str
    list_name: str = "Entity List"
    title: str
    publication_date: date | None = None
    card: DetectedAlert
    entities_added: tuple[EntityLine, ...] = ()
    entities_removed: tuple[EntityLine, ...] = ()
    entities_revised: tuple[EntityChange, ...] = ()
    securities_added: tuple[MatchedSecurity, ...] = ()
    securities_removed: tuple[MatchedSecurity, ...] = ()
    securities_revised: tuple[SecurityChange, ...] = ()
    federal_register_url: str | None = None

    @property
    def confirmed(self) -> bool:
        """True when the published rule names the same entities and touches the same securities."""
        return not (
            self.entities_added
            or self.entities_removed
            or self.entities_revised
            or self.securities_added
            or self.securities_removed
            or self.securities_revised
        )

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.event_id, self.stage, symbol=self.symbol, group=self.group)


AnyAlert = DetectedAlert | EntityListReply | FollowUpAlert | ReconcileAlert | OperatorAlert
Alert = Annotated[AnyAlert, Field(discriminator="stage")]
_ALERT: TypeAdapter[AnyAlert] = TypeAdapter(Alert)


def parse_alert(payload: Mapping[str, Any]) -> AnyAlert:
    """An alert back from its stored payload."""
    return _ALERT.validate_python(payload)


def dedup_key(event_id: int, stage: AlertStage | str, *, symbol: str | None = None, group: str = "all") -> str:
    """``event:<id>:<s:SYMBOL | g:GROUP>:<stage>``: one alert per event, security or group, and stage."""
    subject = f"s:{symbol}" if symbol else f"g:{group}"
    return f"event:{event_id}:{subject}:{AlertStage(stage).value}"
