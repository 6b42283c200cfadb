"""An event's study as computed: bars, calendars and day 0 in; a ``StudyRun`` out (``study_rows`` stores it).

``run(subjects, when, params, bars, calendars)`` resolves each security's exchange, calendar, local benchmark and
day 0, reads its bars (``PriceStore`` or a ``PriceSource`` such as ``CsvDirectorySource``, behind ``BarReader`` in
``monitor.pipeline.bars``), turns them into trade-to-trade engine inputs on the exchange's sessions
(``monitor.prices.returns`` decides which sessions traded and which were halts), runs ``monitor.study.run_event``
once for the event, and returns a ``StudyRun``. One security without prices, or on a calendar past its data, is
reported with its reason and never stops the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from monitor.clock import parse_instant
from monitor.errors import CalendarOutOfRange, InputError
from monitor.logs import get_logger
from monitor.models import StudyStatus
from monitor.pipeline.bars import BarReader, FinalBars, Visible
from monitor.study import Aggregate, EventResult, SecurityResult, SecuritySeries, StudyParams, run_event

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from monitor.prices.calendars import Calendars

log = get_logger(__name__)

SESSION_DAYS = 1.6  # calendar days per session, generous: the mainland has ~242 sessions a year (Golden Week …)
MARGIN_DAYS = 40  # extra calendar days fetched on each side for holidays and halts
DELISTED_AFTER = 20  # sessions its benchmark trades after a security's last bar before we call it delisted


@dataclass(frozen=True)
class Subject:
    """One security to study; ``benchmark``/``mic`` override the exchange defaults (from the universe)."""

    symbol: str
    benchmark: str | None = None
    mic: str | None = None
    relation: str | None = None  # the strongest relation that brought it in: direct, supplier …
    listed_on: date | None = None  # from the universe: a listing after day 0 cannot react (listed_later)
    delisted_on: date | None = None  # from the universe: gone before the window ends (delisted)
    # Day 0 of the same security's earlier events (a backfill holds many): their event windows are kept out of
    # this event's estimation window, so an earlier rule's reaction never inflates σ or bends β.
    earlier_day0s: tuple[date, ...] = ()


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


@dataclass(frozen=True)
class StudyRun:
    """One event's study: the engine's result over every subject, plus the aggregate per relation group."""

    when: EventTime
    result: EventResult
    groups: dict[str, Aggregate]
    relations: dict[str, str | None]
    provisional: dict[str, tuple[date, date]] = field(default_factory=dict)  # calendars on provisional holidays
    # Builds ``exchanges`` on first read: only follow-up alerts use them, so a backfill without alerts never runs
    # the engine again per exchange (that was three of every four engine passes of a three-market event).
    per_exchange: Callable[[], dict[str, dict[str, Aggregate]]] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def exchanges(self) -> dict[str, dict[str, Aggregate]]:
        """Per calendar, the aggregates of that exchange's securities alone (``all`` and each relation): what a
        follow-up after that exchange's close reports, so its pooled numbers never mix in another market's days."""
        return self.per_exchange() if self.per_exchange is not None else {}

    def to_dict(self) -> dict[str, Any]:
        body = {"event_time": self.when.label, **self.result.to_dict()}
        body["provisional_calendars"] = {
            name: {"from": first.isoformat(), "through": last.isoformat(), "source": "holidays package, corrected "
                   "by index bars"} for name, (first, last) in self.provisional.items()
        }  # fmt: skip
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
        members = [m for m in members if not _not_trading(m[0], m[1], day0, stubs)]
        plans[calendar] = members
        if not members:
            continue
        start = day0 - timedelta(days=math.ceil(before * SESSION_DAYS) + MARGIN_DAYS)
        end = day0 + timedelta(days=math.ceil(after * SESSION_DAYS) + MARGIN_DAYS)
        bound = known_through(calendar)
        ranges[calendar] = (day0, start, min(end, bound) if bound else end)

    symbols = [s for cal in ranges for subject, bench in plans[cal] for s in (subject.symbol, bench)]
    if not symbols:
        return [], stubs
    lowest, highest = min(r[1] for r in ranges.values()), max(r[2] for r in ranges.values())
    shown = _visible(bars, calendars, ranges, symbols, lowest, highest)
    laid: _Laid
    if shown is not None:
        laid = _ArrayBars(shown)
    else:
        frames = bars.bars_many(symbols, lowest, highest)
        for calendar, (_, start, end) in list(ranges.items()):
            if _observe(calendars, calendar, start, end, [frames[b] for b in {b for _, b in plans[calendar]}]):
                ranges[calendar] = (when.day0(calendars, calendar), start, end)  # the corrected calendar's day 0
        laid = _FrameBars(frames)
    problems: Mapping[str, str] = getattr(bars, "problems", {})
    series: list[SecuritySeries] = []
    for calendar, (day0, start, end) in ranges.items():
        built, failed = _calendar_series(
            calendars, calendar, day0, start, end, plans[calendar], laid, problems, params.max_daily_move,
            params.window,
        )  # fmt: skip
        series.extend(built)
        stubs.update(failed)
    return series, stubs


def not_trading(listed_on: date | None, delisted_on: date | None, day0: date) -> tuple[StudyStatus, str] | None:
    """``listed_later`` or ``delisted`` with its reason when the universe's listing dates say the security did not
    trade on day 0 (it could not react), else None. Decided before any price is read: a price file that starts
    later must not make it look like missing data (``insufficient_data``, retried) or leave it ``pending``."""
    if listed_on is not None and day0 < listed_on:
        return (
            StudyStatus.LISTED_LATER,
            f"listed on {listed_on.isoformat()}, after day 0 ({day0.isoformat()}): it could not react",
        )
    if delisted_on is not None and day0 >= delisted_on:
        return StudyStatus.DELISTED, f"delisted on {delisted_on.isoformat()}, before day 0 ({day0.isoformat()})"
    return None


def _not_trading(subject: Subject, benchmark: str, day0: date, stubs: dict[str, SecurityResult]) -> bool:
    found = not_trading(subject.listed_on, subject.delisted_on, day0)
    if found is not None:
        stubs[subject.symbol] = _stub(subject, benchmark, found[0], found[1], day0)
    return found is not None


def _observe(calendars: Calendars, calendar: str, start: date, end: date, benchmarks: list[pd.DataFrame]) -> bool:
    """On a provisional stretch of a calendar, let the local index's bars say which days were sessions."""
    span = calendars.provisional(calendar)
    if span is None or end < span[0] or start > span[1]:
        return False
    dates = {stamp.date() for frame in benchmarks for stamp in frame.index}
    if not dates:
        return False
    return calendars.observe(calendar, dates, through=max(dates))


class _Laid(Protocol):
    """An event's bars as a study sees them: the last one of each symbol, and all of them laid on sessions."""

    def last_date(self, symbol: str) -> date | None: ...

    def on_sessions(
        self, symbols: Sequence[str], sessions: pd.DatetimeIndex
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...


@dataclass(frozen=True)
class _FrameBars:
    """Bars read as frames (a price store, a CSV directory, a live source)."""

    frames: Mapping[str, pd.DataFrame]

    def last_date(self, symbol: str) -> date | None:
        frame = self.frames[symbol]
        return None if frame.empty else frame.index[-1].date()

    def on_sessions(
        self, symbols: Sequence[str], sessions: pd.DatetimeIndex
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        from monitor.prices.returns import lay_frames

        return lay_frames({symbol: self.frames[symbol] for symbol in symbols}, sessions)


@dataclass(frozen=True)
class _ArrayBars:
    """Bars shown as positions in per-symbol array histories (a backfill's): the same numbers as ``lay_frames``
    gives for the frames they stand for, without a frame per (event, symbol)."""

    shown: Mapping[str, Visible]

    def last_date(self, symbol: str) -> date | None:
        import numpy as np

        dates = self.shown[symbol].dates
        return None if not len(dates) else np.datetime64(int(dates[-1]), "ns").astype("datetime64[D]").item()

    def on_sessions(
        self, symbols: Sequence[str], sessions: pd.DatetimeIndex
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        import numpy as np

        count, width = len(sessions), len(symbols)
        prices = np.full((count, width), np.nan)
        volumes = np.full((count, width), np.nan)
        has_bar = np.zeros((count, width), dtype=bool)
        keys = sessions.values.astype("datetime64[ns]").view("i8")
        for column, symbol in enumerate(symbols):
            bars = self.shown[symbol]
            dates = bars.dates
            if not len(dates):
                continue
            positions = np.searchsorted(keys, dates)
            inside = positions < count
            inside[inside] = keys[positions[inside]] == dates[inside]
            rows = positions[inside]
            prices[rows, column] = bars.close[inside]
            volumes[rows, column] = bars.volume[inside]
            has_bar[rows, column] = True
        return prices, volumes, has_bar


def _visible(
    bars: BarReader,
    calendars: Calendars,
    ranges: Mapping[str, tuple[date, date, date]],
    symbols: Sequence[str],
    lowest: date,
    highest: date,
) -> dict[str, Visible] | None:
    """The bars to show as array positions when the reader keeps array histories (a backfill's), else None: frames.
    A calendar on its provisional stretch is corrected by index bars (``_observe``), which reads frames."""
    if not isinstance(bars, FinalBars):
        return None
    for calendar, (_, start, end) in ranges.items():
        span = calendars.provisional(calendar)
        if span is not None and not (end < span[0] or start > span[1]):
            return None
    return bars.visible(symbols, lowest, highest)


def _calendar_series(
    calendars: Calendars,
    calendar: str,
    day0: date,
    start: date,
    end: date,
    members: list[tuple[Subject, str]],
    laid: _Laid,
    problems: Mapping[str, str],
    move_bound: float | None = None,
    window: tuple[int, int] = (-5, 5),
) -> tuple[list[SecuritySeries], dict[str, SecurityResult]]:
    """Trade-to-trade series for every security of one calendar, from one returns panel (vectorised), with the
    price guards on (bad prices, spikes and moves beyond the limit flagged: ``monitor.prices.returns``)."""
    import numpy as np

    from monitor.prices.returns import HALTED, NO_DATA, returns_from_arrays

    stubs: dict[str, SecurityResult] = {}
    last_bar = max((d for s, _ in members if (d := laid.last_date(s.symbol)) is not None), default=None)
    if last_bar is None:
        for subject, benchmark in members:
            reason = problems.get(subject.symbol, f"no prices for {subject.symbol}")
            stubs[subject.symbol] = _stub(subject, benchmark, StudyStatus.INSUFFICIENT_DATA, reason, day0)
        return [], stubs
    sessions = calendars.sessions(calendar, start, max(min(end, last_bar), start))
    names = [s.symbol for s, _ in members]
    stocks = returns_from_arrays(names, sessions, *laid.on_sessions(names, sessions), move_bound=move_bound)
    benchmarks = sorted({b for _, b in members})
    levels = returns_from_arrays(benchmarks, sessions, *laid.on_sessions(benchmarks, sessions)).prices
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
        bench_after = np.isfinite(bench_level[through:]).sum()
        gone = subject.delisted_on
        if gone is None and bench_after >= DELISTED_AFTER:  # no bars while its market kept trading: delisted
            gone = days[through].astype(object)
        built = SecuritySeries.from_closes(
            subject.symbol,
            benchmark,
            day0,
            days[:through],
            stocks.prices[:through, column],
            bench_level[:through],
            halted=status[:through] == HALTED,
            status=status[:through],
            listed_on=subject.listed_on,
            delisted_on=gone,
        )
        windows = earlier_windows(days, subject.earlier_day0s, day0, window)
        out.append(built.excluding(windows) if len(windows) else built)
    return out, stubs


def earlier_windows(
    sessions: npt.NDArray[np.datetime64], earlier: Sequence[date], day0: date, window: tuple[int, int]
) -> npt.NDArray[np.datetime64]:
    """The sessions of the event windows ``[first, last]`` around each earlier day 0 (on this exchange's
    ``sessions``), for exclusion from estimation; day 0s outside the sessions held, or not before ``day0``, add
    none (an earlier window before the data fetched lies before any estimation window that data serves)."""
    import numpy as np

    first, last = window
    days = np.asarray(sorted({d for d in earlier if d < day0}), dtype="datetime64[D]")
    if not len(days) or not len(sessions):
        return np.zeros(0, dtype="datetime64[D]")
    at = np.searchsorted(sessions, days)
    inside = (days >= sessions[0]) & (days <= sessions[-1])
    rows = (at[inside, None] + np.arange(first, last + 1)[None, :]).ravel()
    rows = rows[(rows >= 0) & (rows < len(sessions))]
    picked: npt.NDArray[np.datetime64] = sessions[np.unique(rows)]
    return picked


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
    groups = _groups(series, result.aggregate, relations, params)

    def per_exchange() -> dict[str, dict[str, Aggregate]]:
        calendar_of = {s.symbol.strip().upper(): _calendar(s) for s in subjects}
        markets = sorted({c for s in series if (c := calendar_of.get(s.symbol)) is not None})
        exchanges: dict[str, dict[str, Aggregate]] = {}
        for market in markets:
            members = [s for s in series if calendar_of.get(s.symbol) == market]
            alone = groups["all"] if len(markets) == 1 else run_event(members, params).aggregate
            exchanges[market] = groups if len(markets) == 1 else _groups(members, alone, relations, params)
        return exchanges

    for security in ordered:
        log.debug("study_security", symbol=security.symbol, status=security.status, car=security.car, t=security.car_t)
    provisional = _provisional(subjects, series, params, calendars)
    return StudyRun(moment, replace(result, securities=tuple(ordered)), groups, relations, provisional, per_exchange)


def _groups(
    series: Sequence[SecuritySeries], pooled: Aggregate, relations: Mapping[str, str | None], params: StudyParams
) -> dict[str, Aggregate]:
    """``all`` (given) and, when the securities hold more than one relation, the aggregate of each."""
    groups: dict[str, Aggregate] = {"all": pooled}
    kinds = sorted({r for s in series if (r := relations.get(s.symbol)) is not None})
    if len(kinds) > 1:
        for kind in kinds:
            groups[kind] = run_event([s for s in series if relations.get(s.symbol) == kind], params).aggregate
    return groups


def _calendar(subject: Subject) -> str | None:
    from monitor.prices.exchanges import listing

    try:
        return listing(subject.symbol, mic=subject.mic).calendar
    except InputError:
        return None


def _provisional(
    subjects: Sequence[Subject], series: Sequence[SecuritySeries], params: StudyParams, calendars: Calendars
) -> dict[str, tuple[date, date]]:
    """The calendars whose provisional stretch this study's event windows reach (flagged in every output)."""
    from monitor.prices.exchanges import listing

    mics = {s.symbol: s.mic for s in subjects}
    out: dict[str, tuple[date, date]] = {}
    for s in series:
        if s.day0 is None:
            continue
        name = listing(s.symbol, mic=mics.get(s.symbol)).calendar
        span = calendars.provisional(name)
        reach = s.day0 + timedelta(days=math.ceil(params.window[1] * SESSION_DAYS) + MARGIN_DAYS)
        if span is not None and reach >= span[0] and s.day0 <= span[1]:
            out[name] = span
    return out


__all__ = ["EventTime", "StudyRun", "Subject", "not_trading", "prepare", "run"]
