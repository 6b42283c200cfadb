"""Everything a report shows, read from the stored studies in a handful of bulk queries (not one per event).

The numbers are the stored ones, untouched: the same rows ``monitor study --json`` reproduces for the same event
time and symbols, so the report and the study command agree to the last digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.tables import Document, EventRow, EventStatistic, SecurityRow, Study, StudyDay
from monitor.models import MEASURED_STUDY_STATUSES
from monitor.study.params import window_label

USABLE = tuple(status.value for status in MEASURED_STUDY_STATUSES)


@dataclass(frozen=True)
class DayPoint:
    rel_day: int
    date: date
    ret: float | None
    ar: float | None
    ar_t: float | None
    car: float | None
    sessions: int
    halted: bool
    status: str = "traded"  # monitor.models.DayStatus: traded, halted, bad_price, suspect, benchmark_gap, no_data


@dataclass(frozen=True)
class WindowValue:
    car: float | None
    t: float | None
    p_value: float | None
    variance: float | None
    complete: bool


@dataclass(frozen=True)
class StudyRecord:
    event_id: int
    symbol: str
    issuer: str
    exchange_mic: str
    relation: str
    benchmark: str
    status: str
    reason: str | None
    day0: date | None
    day0_halted: bool
    reaction_date: date | None
    through_date: date | None
    alpha: float | None
    beta: float | None
    sigma: float | None
    n_estimation: int | None
    bhar: float | None
    windows: dict[str, WindowValue]  # "[0,0]", …, and the event window's label
    days: tuple[DayPoint, ...]

    @property
    def usable(self) -> bool:
        return self.status in USABLE

    def day(self, rel_day: int) -> DayPoint | None:
        return next((d for d in self.days if d.rel_day == rel_day), None)

    @property
    def flagged_days(self) -> str:
        """The window's sessions that did not simply trade, e.g. ``day +1 halted; day +2 suspect`` (empty: none)."""
        return "; ".join(f"day {d.rel_day:+d} {d.status.replace('_', ' ')}" for d in self.days if d.status != "traded")


@dataclass(frozen=True)
class GroupStats:
    n: int
    caar: float | None
    aar: tuple[dict[str, Any], ...]
    tests: dict[str, Any]  # the event window's tests, plus "sub_windows" and "placebo_note"

    def window(self, label: str, main: str) -> dict[str, Any] | None:
        """The tests of one window (the event window's are at the top level)."""
        if label == main:
            return self.tests
        found = (self.tests.get("sub_windows") or {}).get(label)
        return found if isinstance(found, dict) else None


@dataclass(frozen=True)
class EventRecord:
    event_id: int
    document_number: str
    title: str
    announced_at: datetime
    announced_source: str
    publication_date: date | None
    html_url: str | None
    is_backfill: bool
    window: tuple[int, int]
    parameters: dict[str, Any]
    studies: tuple[StudyRecord, ...]
    groups: dict[str, GroupStats] = field(default_factory=dict)

    @property
    def main_label(self) -> str:
        return window_label(self.window)

    def group(self, relation: str) -> GroupStats | None:
        """A relation's stored statistics; an event whose securities share one relation stores them as "all"."""
        if relation in self.groups:
            return self.groups[relation]
        relations = {s.relation for s in self.studies if s.usable}
        return self.groups.get("all") if relations == {relation} else None


STUDY_COLUMNS = (
    Study.id, Study.event_id, Study.symbol, Study.relation, Study.benchmark, Study.status, Study.reason, Study.day0,
    Study.day0_halted, Study.reaction_date, Study.through_date, Study.alpha, Study.beta, Study.sigma,
    Study.n_estimation, Study.bhar, Study.car, Study.car_t, Study.car_p, Study.car_variance, Study.sub_windows,
    Study.window_start, Study.window_end,
)  # fmt: skip
DAY_COLUMNS = (
    StudyDay.study_id, StudyDay.rel_day, StudyDay.date, StudyDay.ret, StudyDay.ar, StudyDay.ar_t, StudyDay.car,
    StudyDay.sessions, StudyDay.halted, StudyDay.status,
)  # fmt: skip


def _window_values(sub_windows: dict[str, Any], study: Any) -> dict[str, WindowValue]:
    out = {
        label: WindowValue(
            value.get("car"), value.get("t"), value.get("p_value"), value.get("variance"), bool(value.get("complete"))
        )
        for label, value in (sub_windows or {}).items()
        if isinstance(value, dict)
    }
    out[window_label((study.window_start, study.window_end))] = WindowValue(
        study.car, study.car_t, study.car_p, study.car_variance, study.status == "complete"
    )
    return out


def load_events(session: Session, event_ids: Sequence[int] | None = None) -> list[EventRecord]:
    """The events (all with a stored study when ``event_ids`` is None), oldest announcement first."""
    query = (
        select(EventRow, Document.document_number, Document.publication_date, Document.html_url)
        .join(Document, Document.id == EventRow.document_id)
        .where(EventRow.id.in_(select(Study.event_id)))
        .order_by(EventRow.announced_at, EventRow.id)
    )
    if event_ids is not None:
        query = query.where(EventRow.id.in_(list(event_ids)))
    events = session.execute(query).all()
    ids = [row.id for row, *_ in events]
    if not ids:
        return []
    connection = session.connection()  # Core rows, not ORM objects: a report can hold 10,000 studies
    studies_by_event: dict[int, list[Any]] = {}
    for found in connection.execute(
        select(*STUDY_COLUMNS, SecurityRow.issuer_name, SecurityRow.exchange_mic)
        .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
        .where(Study.event_id.in_(ids))
        .order_by(Study.event_id, Study.id)
    ).all():
        studies_by_event.setdefault(found.event_id, []).append(found)
    study_ids = [found.id for rows in studies_by_event.values() for found in rows]
    days: dict[int, list[DayPoint]] = {}
    for chunk in _chunks(study_ids, 5000):
        for study_id, rel_day, day, ret, ar, ar_t, car, sessions, halted, status in connection.execute(
            select(*DAY_COLUMNS).where(StudyDay.study_id.in_(chunk)).order_by(StudyDay.study_id, StudyDay.rel_day)
        ).all():  # fetched at once: iterating the result fetches row by row, at twice the cost
            point = DayPoint(int(rel_day), day, ret, ar, ar_t, car, int(sessions), bool(halted), str(status))
            days.setdefault(int(study_id), []).append(point)
    groups: dict[int, dict[str, GroupStats]] = {}
    parameters: dict[int, dict[str, Any]] = {}
    for stat in session.scalars(select(EventStatistic).where(EventStatistic.event_id.in_(ids))):
        groups.setdefault(stat.event_id, {})[stat.group_key] = GroupStats(
            stat.n, stat.caar, tuple(stat.aar or ()), dict(stat.tests or {})
        )
        if stat.group_key == "all":
            parameters[stat.event_id] = dict(stat.parameters or {})
    out: list[EventRecord] = []
    for row, number, published, url in events:
        rows = studies_by_event.get(row.id, [])
        first = rows[0] if rows else None
        out.append(
            EventRecord(
                event_id=row.id,
                document_number=number,
                title=" ".join(row.title.split()),
                announced_at=row.announced_at,
                announced_source=row.announced_source,
                publication_date=published,
                html_url=url,
                is_backfill=row.is_backfill,
                window=(first.window_start, first.window_end) if first else (-5, 5),
                parameters=parameters.get(row.id, {}),
                studies=tuple(
                    StudyRecord(
                        event_id=row.id,
                        symbol=study.symbol,
                        issuer=study.issuer_name or study.symbol,
                        exchange_mic=study.exchange_mic or "",
                        relation=study.relation or "direct",
                        benchmark=study.benchmark,
                        status=study.status,
                        reason=study.reason,
                        day0=study.day0,
                        day0_halted=study.day0_halted,
                        reaction_date=study.reaction_date,
                        through_date=study.through_date,
                        alpha=study.alpha,
                        beta=study.beta,
                        sigma=study.sigma,
                        n_estimation=study.n_estimation,
                        bhar=study.bhar,
                        windows=_window_values(study.sub_windows, study),
                        days=tuple(days.get(study.id, ())),
                    )
                    for study in rows
                ),
                groups=groups.get(row.id, {}),
            )
        )
    return out


def _chunks(values: Sequence[int], size: int) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
