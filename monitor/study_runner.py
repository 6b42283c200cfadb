"""The event study's I/O side: bars, calendars and day 0 in; ``Study``, ``StudyDay`` and ``EventStatistic`` out.

``run(subjects, when, params, bars, calendars)`` resolves each security's exchange, calendar, local benchmark and
day 0, reads its bars (``PriceStore`` or a ``PriceSource`` such as ``CsvDirectorySource``, behind ``BarReader``),
turns them into trade-to-trade engine inputs on the exchange's sessions (``monitor.prices.returns`` decides which
sessions traded and which were halts), runs ``monitor.study.run_event`` once for the event, and returns a
``StudyRun``. ``save`` writes it idempotently (upserts on (event, symbol), (study, rel_day), (event, group));
``load`` reads it back in the ``monitor study --json`` shape. One security without prices, or on a calendar past
its data, is reported with its reason and never stops the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from monitor.clock import Clock, SystemClock, parse_instant
from monitor.errors import CalendarOutOfRange, InputError
from monitor.logs import get_logger
from monitor.models import StudyStatus
from monitor.study import Aggregate, EventResult, SecurityResult, SecuritySeries, StudyParams, run_event

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from monitor.prices.calendars import Calendars
    from monitor.prices.sources import PriceSource
    from monitor.prices.store import PriceStore, RefreshResult

log = get_logger(__name__)

SESSION_DAYS = 1.6  # calendar days per session, generous: the mainland has ~242 sessions a year (Golden Week …)
MARGIN_DAYS = 40  # extra calendar days fetched on each side for holidays and halts
NO_DATA_RETRY = timedelta(hours=6)  # a source that had no bars for a symbol is asked again after this


@dataclass(frozen=True)
class Subject:
    """One security to study; ``benchmark``/``mic`` override the exchange defaults (from the universe)."""

    symbol: str
    benchmark: str | None = None
    mic: str | None = None
    relation: str | None = None  # the strongest relation that brought it in: direct, supplier …


@dataclass(frozen=True)
class EventTime:
    """When the market could first react: an instant, or a bare date meaning before that day's open everywhere."""

    instant: datetime | None = None
    day: date | None = None

    @classmethod
    def parse(cls, text: str) -> EventTime:
        value = text.strip()
        if len(value) == 10:
            try:
                return cls(day=date.fromisoformat(value))
            except ValueError:
                raise InputError(f"--event-time {text!r}: expected a date such as 2019-10-08") from None
        return cls(instant=parse_instant(value, "--event-time"))

    @classmethod
    def of(cls, value: datetime | date) -> EventTime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise InputError(f"event time {value.isoformat()} has no UTC offset")
            return cls(instant=value.astimezone(UTC))
        return cls(day=value)

    @property
    def label(self) -> str:
        if self.instant is not None:
            return self.instant.isoformat().replace("+00:00", "Z")
        assert self.day is not None
        return self.day.isoformat()

    def day0(self, calendars: Calendars, calendar: str) -> date:
        """First session whose close is at or after the instant; for a bare date, the first session on or after
        it (an announcement before the open of that day)."""
        if self.instant is not None:
            return calendars.day0_on(calendar, self.instant)
        assert self.day is not None
        sessions = calendars.sessions(calendar, self.day, self.day + timedelta(days=MARGIN_DAYS))
        if not len(sessions):
            raise CalendarOutOfRange(calendar, self.day, self.day + timedelta(days=MARGIN_DAYS))
        session: date = sessions[0].date()
        return session


class BarReader(Protocol):
    """Daily bars for many symbols (the ``PriceSource`` frame shape); a symbol without any maps to an empty frame."""

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]: ...


@dataclass
class SourceBars:
    """A ``PriceSource`` (e.g. ``CsvDirectorySource``) read directly; missing symbols are remembered with why."""

    source: PriceSource
    problems: dict[str, str] = field(default_factory=dict)

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        from monitor.errors import NoPriceData
        from monitor.prices.sources import empty_frame

        out: dict[str, pd.DataFrame] = {}
        for symbol in dict.fromkeys(symbols):
            try:
                out[symbol] = self.source.history(symbol, start, end)
            except (NoPriceData, InputError) as exc:
                self.problems[symbol] = str(exc)
                out[symbol] = empty_frame()
        return out


@dataclass
class StoreBars:
    """The database price store; with a ``source`` it first fetches symbols whose stored bars miss the range."""

    store: PriceStore
    source: PriceSource | None = None
    clock: Clock = field(default_factory=SystemClock)  # "today", for deciding whether stored bars are stale
    problems: dict[str, str] = field(default_factory=dict)
    on_fetch: Callable[[RefreshResult], None] | None = None  # progress bars

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        wanted = list(dict.fromkeys(symbols))
        stored: dict[str, pd.DataFrame] = self.store.bars_many(wanted, start, end)
        if self.source is None:
            return stored
        states = self.store.states(wanted)
        missing = [s for s in wanted if self._incomplete(stored[s], start, end, states.get(s))]
        # refresh_many stops at a rate limit, so a throttled source is not hammered symbol after symbol.
        for result in self.store.refresh_many(missing, self.source, since=start, on_result=self.on_fetch):
            if result.status != "ok":
                self.problems[result.symbol] = result.reason or result.status
        if missing:
            stored.update(self.store.bars_many(missing, start, end))
        return stored

    def _incomplete(self, frame: pd.DataFrame, start: date | None, end: date | None, state: Any) -> bool:
        """Whether the stored bars miss part of the range and asking the source again could help.

        A source that already answered "nothing" recently, or whose full history was fetched from ``start`` or
        earlier, is not asked again: a recent listing or an unknown symbol would otherwise be re-fetched in full
        on every study update, hammering a rate-limited source.
        """
        now = self.clock.now()
        answered_nothing = state is not None and state.status == "no_data" and state.last_fetch_at is not None
        if answered_nothing and now - state.last_fetch_at < NO_DATA_RETRY:
            return False
        if frame.empty:
            return True
        first, last = frame.index[0].date(), frame.index[-1].date()
        today = now.date()
        stale = last < min(end or today, today - timedelta(days=1)) - timedelta(days=4)
        asked_from = state.history_since if state is not None else None
        short = start is not None and first > start + timedelta(days=10) and (asked_from is None or asked_from > start)
        return stale or short


@dataclass(frozen=True)
class StudyRun:
    """One event's study: the engine's result over every subject, plus the aggregate per relation group."""

    when: EventTime
    result: EventResult
    groups: dict[str, Aggregate]
    relations: dict[str, str | None]

    def to_dict(self) -> dict[str, Any]:
        body = {"event_time": self.when.label, **self.result.to_dict()}
        for security in body["securities"]:
            security["relation"] = self.relations.get(security["symbol"])
        body["groups"] = {key: aggregate.to_dict() for key, aggregate in self.groups.items() if key != "all"}
        return body


def _needed_sessions(params: StudyParams) -> tuple[int, int]:
    """Sessions needed before and after day 0 (placebo history and halt extension included)."""
    est_first, _ = params.estimation_range
    before = -est_first + (params.placebo_lookback if params.placebo_draws else 0)
    return before, params.window[1] + params.max_halt_extension


def prepare(
    subjects: Sequence[Subject],
    when: EventTime,
    params: StudyParams,
    bars: BarReader,
    calendars: Calendars,
) -> tuple[list[SecuritySeries], dict[str, SecurityResult]]:
    """Engine inputs for the subjects that have prices, and a ready result (with its reason) for those that do not."""
    from monitor.prices.calendars import known_through
    from monitor.prices.exchanges import listing

    stubs: dict[str, SecurityResult] = {}
    plans: dict[str, list[tuple[Subject, str]]] = {}  # calendar -> [(subject, benchmark)]
    seen: set[str] = set()
    for subject in subjects:
        if subject.symbol in seen:
            continue
        seen.add(subject.symbol)
        try:
            found = listing(subject.symbol, mic=subject.mic, benchmark=subject.benchmark)
        except InputError as exc:
            stubs[subject.symbol] = _stub(subject, subject.benchmark or "", StudyStatus.ERROR, str(exc))
            continue
        plans.setdefault(found.calendar, []).append((replace(subject, symbol=found.symbol), found.benchmark))

    before, after = _needed_sessions(params)
    ranges: dict[str, tuple[date, date, date]] = {}
    for calendar, members in plans.items():
        try:
            day0 = when.day0(calendars, calendar)
        except CalendarOutOfRange as exc:
            for subject, benchmark in members:
                stubs[subject.symbol] = _stub(subject, benchmark, StudyStatus.PENDING, str(exc))
            continue
        start = day0 - timedelta(days=math.ceil(before * SESSION_DAYS) + MARGIN_DAYS)
        end = day0 + timedelta(days=math.ceil(after * SESSION_DAYS) + MARGIN_DAYS)
        bound = known_through(calendar)
        ranges[calendar] = (day0, start, min(end, bound) if bound else end)

    symbols = [s for cal in ranges for subject, bench in plans[cal] for s in (subject.symbol, bench)]
    if not symbols:
        return [], stubs
    frames = bars.bars_many(symbols, min(r[1] for r in ranges.values()), max(r[2] for r in ranges.values()))
    problems: Mapping[str, str] = getattr(bars, "problems", {})
    series: list[SecuritySeries] = []
    for calendar, (day0, start, end) in ranges.items():
        built, failed = _calendar_series(calendars, calendar, day0, start, end, plans[calendar], frames, problems)
        series.extend(built)
        stubs.update(failed)
    return series, stubs


def _calendar_series(
    calendars: Calendars,
    calendar: str,
    day0: date,
    start: date,
    end: date,
    members: list[tuple[Subject, str]],
    frames: Mapping[str, pd.DataFrame],
    problems: Mapping[str, str],
) -> tuple[list[SecuritySeries], dict[str, SecurityResult]]:
    """Trade-to-trade series for every security of one calendar, from one returns panel (vectorised)."""
    import numpy as np

    from monitor.prices.returns import HALTED, NO_DATA, returns_panel

    stubs: dict[str, SecurityResult] = {}
    present = [frames[s.symbol] for s, _ in members if not frames[s.symbol].empty]
    last_bar = max((frame.index[-1].date() for frame in present), default=None)
    if last_bar is None:
        for subject, benchmark in members:
            reason = problems.get(subject.symbol, f"no prices for {subject.symbol}")
            stubs[subject.symbol] = _stub(subject, benchmark, StudyStatus.INSUFFICIENT_DATA, reason, day0)
        return [], stubs
    sessions = calendars.sessions(calendar, start, max(min(end, last_bar), start))
    stocks = returns_panel({s.symbol: frames[s.symbol] for s, _ in members}, sessions)
    benchmarks = sorted({b for _, b in members})
    levels = returns_panel({b: frames[b] for b in benchmarks}, sessions).prices
    days = sessions.values.astype("datetime64[D]")
    out: list[SecuritySeries] = []
    for column, (subject, benchmark) in enumerate(members):
        status = stocks.status[:, column]
        has = np.flatnonzero(status != NO_DATA)
        bench_level = levels[:, benchmarks.index(benchmark)]
        if not len(has):
            reason = problems.get(subject.symbol, f"no prices for {subject.symbol} around {day0.isoformat()}")
            stubs[subject.symbol] = _stub(subject, benchmark, StudyStatus.INSUFFICIENT_DATA, reason, day0)
            continue
        if not np.isfinite(bench_level).any():
            reason = problems.get(benchmark, f"no prices for benchmark {benchmark}")
            stubs[subject.symbol] = _stub(subject, benchmark, StudyStatus.INSUFFICIENT_DATA, reason, day0)
            continue
        through = int(has[-1]) + 1
        out.append(
            SecuritySeries.from_closes(
                subject.symbol,
                benchmark,
                day0,
                days[:through],
                stocks.prices[:through, column],
                bench_level[:through],
                halted=status[:through] == HALTED,
            )
        )
    return out, stubs


def _stub(
    subject: Subject, benchmark: str, status: StudyStatus, reason: str, day0: date | None = None
) -> SecurityResult:
    return SecurityResult(subject.symbol, benchmark, day0, status.value, reason)


def run(
    subjects: Sequence[Subject],
    when: EventTime | datetime | date,
    params: StudyParams,
    bars: BarReader,
    calendars: Calendars,
) -> StudyRun:
    """Study one event for ``subjects``: results in subject order, the aggregate of all and of each relation."""
    moment = when if isinstance(when, EventTime) else EventTime.of(when)
    series, stubs = prepare(subjects, moment, params, bars, calendars)
    result = run_event(series, params)
    studied = {s.symbol: s for s in result.securities}
    ordered: list[SecurityResult] = []
    relations: dict[str, str | None] = {}
    for subject in subjects:
        found = studied.get(subject.symbol.strip().upper()) or stubs.get(subject.symbol.strip().upper())
        found = found or stubs.get(subject.symbol)
        if found is not None and found.symbol not in relations:
            ordered.append(found)
            relations[found.symbol] = subject.relation
    groups: dict[str, Aggregate] = {"all": result.aggregate}
    kinds = sorted({r for r in relations.values() if r is not None})
    if len(kinds) > 1:
        for kind in kinds:
            members = [s for s in series if relations.get(s.symbol) == kind]
            groups[kind] = run_event(members, params).aggregate
    for security in ordered:
        log.debug("study_security", symbol=security.symbol, status=security.status, car=security.car, t=security.car_t)
    return StudyRun(moment, replace(result, securities=tuple(ordered)), groups, relations)


# --- storage ----------------------------------------------------------------------------------------------------


def _study_row(event_id: int, run: StudyRun, security: SecurityResult, computed_at: datetime) -> dict[str, Any]:
    params = run.result.params
    return {
        "event_id": event_id,
        "symbol": security.symbol,
        "relation": run.relations.get(security.symbol),
        "benchmark": security.benchmark,
        "status": security.status,
        "reason": security.reason,
        "day0": security.day0,
        "day0_halted": security.day0_halted,
        "reaction_date": security.reaction_date,
        "through_date": security.through_date,
        "model": params.model,
        "estimation": params.estimation,
        "gap": params.gap,
        "window_start": params.window[0],
        "window_end": params.window[1],
        "alpha": security.alpha,
        "beta": security.beta,
        "sigma": security.sigma,
        "n_estimation": security.n_estimation,
        "car": security.car,
        "car_variance": security.car_variance,
        "car_t": security.car_t,
        "car_p": security.car_p,
        "bhar": security.bhar,
        "sub_windows": {label: window.to_dict() for label, window in security.sub_windows.items()},
        "computed_at": computed_at,
    }


def save(session: Session, event_id: int, run: StudyRun, *, computed_at: datetime) -> dict[str, int]:
    """Store one event's study (idempotent: rerunning updates in place); returns the study id per symbol.

    A security's day rows are replaced by the new ones (a halt that ended moves the lumped return), and the
    aggregate of every group is upserted on (event, group). Runs inside the caller's transaction.
    """
    from sqlalchemy import Table, bindparam, delete, insert, select, update

    from monitor.db.tables.studies import EventStatistic, Study, StudyDay
    from monitor.db.upsert import upsert

    securities = run.result.securities
    rows = [_study_row(event_id, run, s, computed_at) for s in securities]
    stored = dict(session.execute(select(Study.symbol, Study.id).where(Study.event_id == event_id)).all())
    # Rows already there (the pipeline opens every study before running it) are updated by primary key in one
    # executemany compiled once; only new ones need the upsert, whose multi-row statement is compiled per call.
    known = [row for row in rows if row["symbol"] in stored]
    if known:
        studies: Table = Study.__table__  # type: ignore[assignment]
        columns = list(known[0])
        statement = (
            update(studies)
            .where(studies.c.id == bindparam("row_id"))
            .values({name: bindparam(f"v_{name}", type_=studies.c[name].type) for name in columns})
        )
        updates = [{"row_id": stored[row["symbol"]], **{f"v_{k}": v for k, v in row.items()}} for row in known]
        session.execute(statement, updates)
    fresh = [row for row in rows if row["symbol"] not in stored]
    if fresh:
        upsert(session, Study, fresh, key=["event_id", "symbol"])
        stored = dict(session.execute(select(Study.symbol, Study.id).where(Study.event_id == event_id)).all())
    ids = {symbol: int(study_id) for symbol, study_id in stored.items()}
    days = [
        {
            "study_id": ids[s.symbol],
            "rel_day": d.rel_day,
            "date": d.date,
            "ret": d.ret,
            "benchmark_return": d.benchmark_return,
            "ar": d.ar,
            "ar_t": d.ar_t,
            "car": d.car,
            "sessions": d.sessions,
            "halted": d.halted,
        }
        for s in securities
        for d in s.days
        if d.date is not None
    ]
    session.execute(delete(StudyDay).where(StudyDay.study_id.in_([ids[s.symbol] for s in securities])))
    if days:  # all deleted just above: a plain executemany, compiled once (an upsert recompiles per row count)
        table: Table = StudyDay.__table__  # type: ignore[assignment]
        session.execute(insert(table), days)
    params = run.result.params
    parameters = {
        "model": params.model,
        "estimation": params.estimation,
        "gap": params.gap,
        "window": list(params.window),
        "min_estimation": params.min_estimation,
        "placebo_draws": params.placebo_draws,
        "placebo_seed": params.placebo_seed,
        "event_time": run.when.label,
    }
    stats = []
    for key, aggregate in run.groups.items():
        body = aggregate.to_dict()
        tests = {**body["tests"], "sub_windows": body["sub_windows"], "placebo_note": body["placebo_note"]}
        row = {"event_id": event_id, "group_key": key, "n": aggregate.n, "caar": aggregate.caar, "aar": body["aar"]}
        stats.append({**row, "tests": tests, "parameters": parameters, "computed_at": computed_at})
    upsert(session, EventStatistic, stats, key=["event_id", "group_key"])
    log.info("study_saved", event_id=event_id, securities=len(securities), groups=len(stats))
    return {symbol: int(study_id) for symbol, study_id in ids.items()}


def load(session: Session, event_id: int) -> dict[str, Any] | None:
    """A stored study in the ``monitor study --json`` shape (plus ``groups``), or None if none is stored."""
    from sqlalchemy import select

    from monitor.db.tables.studies import EventStatistic, Study, StudyDay

    studies = session.execute(select(Study).where(Study.event_id == event_id).order_by(Study.id)).scalars().all()
    if not studies:
        return None
    days: dict[int, list[dict[str, Any]]] = {}
    query = select(StudyDay).where(StudyDay.study_id.in_([s.id for s in studies])).order_by(StudyDay.rel_day)
    for day in session.execute(query).scalars():
        days.setdefault(day.study_id, []).append(
            {
                "rel_day": day.rel_day,
                "date": day.date.isoformat(),
                "return": day.ret,
                "benchmark_return": day.benchmark_return,
                "ar": day.ar,
                "t": day.ar_t,
                "car": day.car,
                "sessions": day.sessions,
                "halted": day.halted,
            }
        )
    stats = session.execute(select(EventStatistic).where(EventStatistic.event_id == event_id)).scalars().all()
    groups: dict[str, dict[str, Any]] = {
        row.group_key: {"n": row.n, "caar": row.caar, "aar": row.aar, "tests": row.tests, "parameters": row.parameters}
        for row in stats
    }
    first = studies[0]
    parameters = groups.get("all", {}).get("parameters", {})
    return {
        "event_time": parameters.get("event_time"),
        "model": first.model,
        "estimation": first.estimation,
        "gap": first.gap,
        "window": [first.window_start, first.window_end],
        "securities": [_stored_security(s, days.get(s.id, [])) for s in studies],
        "aggregate": groups.get("all"),
        "groups": {key: value for key, value in groups.items() if key != "all"},
    }


def _stored_security(study: Any, days: list[dict[str, Any]]) -> dict[str, Any]:
    def iso(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "symbol": study.symbol,
        "relation": study.relation,
        "benchmark": study.benchmark,
        "day0": iso(study.day0),
        "status": study.status,
        "reason": study.reason,
        "alpha": study.alpha,
        "beta": study.beta,
        "sigma": study.sigma,
        "n_estimation": study.n_estimation,
        "car": study.car,
        "car_variance": study.car_variance,
        "car_t": study.car_t,
        "car_p": study.car_p,
        "bhar": study.bhar,
        "day0_halted": study.day0_halted,
        "reaction_date": iso(study.reaction_date),
        "through_date": iso(study.through_date),
        "days": days,
        "sub_windows": study.sub_windows,
        "computed_at": study.computed_at.isoformat() if study.computed_at else None,
    }


__all__ = [
    "BarReader",
    "EventTime",
    "SourceBars",
    "StoreBars",
    "StudyRun",
    "Subject",
    "load",
    "prepare",
    "run",
    "save",
]
