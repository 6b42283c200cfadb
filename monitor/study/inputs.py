"""Engine inputs: one security's trade-to-trade returns, and the event-time panel all of an event's securities share.

A security's series lives on its own exchange's sessions. A session with no return ending on it (a halt, a missing
bar, or a missing benchmark close) carries NaN; the next return spans every session since the last one, and its
benchmark return is compounded over exactly those sessions. Securities are then aligned by event time (the session
index relative to each one's own day 0) into (rows x securities) arrays so every later step is a vectorised pass.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from monitor.errors import InputError
from monitor.models import DayStatus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]

NAT = np.datetime64("NaT", "D")
TRADED_CODE = DayStatus.code(DayStatus.TRADED)
HALTED_CODE = DayStatus.code(DayStatus.HALTED)
NO_DATA_CODE = DayStatus.code(DayStatus.NO_DATA)
BENCHMARK_GAP_CODE = DayStatus.code(DayStatus.BENCHMARK_GAP)


def as_days(values: Sequence[date] | npt.ArrayLike) -> DateArray:
    return np.asarray(values, dtype="datetime64[D]")


@dataclass(frozen=True, eq=False)
class SecuritySeries:
    """One security's returns on its exchange's sessions, ready for the engine.

    ``returns[t]`` is the simple return from the previous traded close to the close of ``sessions[t]``;
    ``spans[t]`` counts the sessions it covers (1 normally, more after a halt) and ``benchmark_returns[t]`` is
    the benchmark compounded over those same sessions. Where no return ends on a session all three are NaN/0.
    ``benchmark_sums`` is the sum of the benchmark's own session returns over the same sessions: the market model's
    regressor for a lumped return (``E = k·α + β·ΣR_m``, §1.6), where the market-adjusted model compounds instead.
    It defaults to ``benchmark_returns`` (identical whenever a return spans one session).
    ``day0`` is the first session whose close is at or after the announcement (``None``: not known yet).
    """

    symbol: str
    benchmark: str
    day0: date | None
    sessions: DateArray
    returns: FloatArray
    benchmark_returns: FloatArray
    spans: IntArray
    halted: BoolArray  # the security itself did not trade that session (no bar or zero volume)
    benchmark_sums: FloatArray | None = None
    status: npt.NDArray[np.int8] | None = None  # DayStatus codes per session; derived from ``halted`` if absent
    excluded: BoolArray | None = None  # sessions whose returns must stay out of estimation (leaks, other events)
    listed_on: date | None = None
    delisted_on: date | None = None

    def __post_init__(self) -> None:
        n = len(self.sessions)
        if self.benchmark_sums is None:
            object.__setattr__(self, "benchmark_sums", self.benchmark_returns)
        if self.status is None:
            codes = np.where(np.asarray(self.halted, dtype=bool), HALTED_CODE, TRADED_CODE).astype(np.int8)
            object.__setattr__(self, "status", codes)
        if self.excluded is None:
            object.__setattr__(self, "excluded", np.zeros(n, dtype=bool))
        for name in ("returns", "benchmark_returns", "benchmark_sums", "spans", "halted", "status", "excluded"):
            if len(getattr(self, name)) != n:
                raise InputError(f"{self.symbol}: {name} has {len(getattr(self, name))} values for {n} sessions")
        if n > 1 and not bool(np.all(self.sessions[1:] > self.sessions[:-1])):
            raise InputError(f"{self.symbol}: sessions are not strictly increasing")
        has = np.isfinite(self.returns)
        if bool(np.any(has & (self.spans < 1))):
            raise InputError(f"{self.symbol}: a return spans fewer than one session")

    @property
    def valid(self) -> BoolArray:
        """Sessions on which a usable (security, benchmark) return pair ends."""
        finite = np.isfinite(self.returns) & np.isfinite(self.benchmark_returns) & np.isfinite(self.regressor_sums)
        return finite & (self.spans >= 1)

    def at(self, day0: date | None) -> SecuritySeries:
        """The same series with another day 0 (placebo dates, backfills), sharing its validated arrays."""
        twin = copy.copy(self)
        object.__setattr__(twin, "day0", day0)
        return twin

    @property
    def regressor_sums(self) -> FloatArray:
        assert self.benchmark_sums is not None  # set in __post_init__
        return self.benchmark_sums

    @property
    def day_status(self) -> npt.NDArray[np.int8]:
        assert self.status is not None  # set in __post_init__
        return self.status

    def excluding(self, days: Sequence[date] | npt.ArrayLike) -> SecuritySeries:
        """The same series with these sessions kept out of estimation as well (e.g. earlier event windows)."""
        assert self.excluded is not None
        more = np.isin(self.sessions, as_days(days))
        twin = copy.copy(self)
        object.__setattr__(twin, "excluded", self.excluded | more)
        return twin

    @classmethod
    def from_closes(
        cls,
        symbol: str,
        benchmark: str,
        day0: date | None,
        sessions: Sequence[date] | npt.ArrayLike,
        closes: npt.ArrayLike,
        benchmark_closes: npt.ArrayLike,
        halted: npt.ArrayLike | None = None,
        status: npt.ArrayLike | None = None,
        *,
        listed_on: date | None = None,
        delisted_on: date | None = None,
    ) -> SecuritySeries:
        """Trade-to-trade returns from closes on every session (NaN where there is no bar).

        A return is measured only between sessions where both the security and its benchmark closed, so a halt and
        a missing benchmark day are handled alike: the next return spans the gap and the benchmark is compounded
        over the same sessions (a ratio of its closes). Never a zero return for a day that did not trade.
        ``halted`` marks sessions the security was suspended (zero volume); they are the ``halted`` flags kept on
        the series. Without it, a session with no close between the first and the last close counts as halted.
        ``status`` (``monitor.prices.returns`` codes) says more where the price module knows it (a bad price, a
        suspect return); a session the security traded but its benchmark did not is marked ``benchmark_gap``.
        """
        days = as_days(sessions)
        close = np.asarray(closes, dtype=np.float64)
        bench = np.asarray(benchmark_closes, dtype=np.float64)
        if close.shape != days.shape or bench.shape != days.shape:
            raise InputError(f"{symbol}: closes and benchmark closes must have one value per session")
        missing = ~np.isfinite(close) | (close <= 0)
        if halted is not None:
            flags = np.asarray(halted, dtype=bool)
            stopped = missing | flags
        else:
            traded = np.flatnonzero(~missing)
            inside = np.zeros(days.shape, dtype=bool)
            if len(traded):
                inside[traded[0] : traded[-1] + 1] = True
            flags = missing & inside
            stopped = missing
        bench_ok = np.isfinite(bench) & (bench > 0)
        usable = ~stopped & bench_ok
        at = np.flatnonzero(usable)
        returns = np.full(days.shape, np.nan)
        bench_returns = np.full(days.shape, np.nan)
        bench_sums = np.full(days.shape, np.nan)
        spans = np.zeros(days.shape, dtype=np.int64)
        if len(at) > 1:
            returns[at[1:]] = close[at[1:]] / close[at[:-1]] - 1.0
            bench_returns[at[1:]] = bench[at[1:]] / bench[at[:-1]] - 1.0
            # The benchmark's own session returns (trade-to-trade over its own gaps), cumulated, give ΣR_m over
            # any span between two of the security's traded sessions.
            own = np.flatnonzero(bench_ok)
            daily = np.zeros(days.shape)
            daily[own[1:]] = bench[own[1:]] / bench[own[:-1]] - 1.0
            total = np.cumsum(daily)
            bench_sums[at[1:]] = total[at[1:]] - total[at[:-1]]
            spans[at[1:]] = np.diff(at)
        codes = np.where(flags, HALTED_CODE, TRADED_CODE).astype(np.int8)
        if status is not None:
            codes = np.asarray(status, dtype=np.int8).copy()
            if codes.shape != days.shape:
                raise InputError(f"{symbol}: status must have one value per session")
        codes[~stopped & ~bench_ok & (codes != NO_DATA_CODE)] = BENCHMARK_GAP_CODE
        return cls(
            symbol, benchmark, day0, days, returns, bench_returns, spans, flags, bench_sums, codes,
            listed_on=listed_on, delisted_on=delisted_on,
        )  # fmt: skip


@dataclass(frozen=True)
class EventPanel:
    """(event, security) pairs on a common event-time axis: row ``r`` is relative session ``rel[r]`` of each
    column's own day 0 (``monitor.study.book.gather`` builds it)."""

    names: tuple[str, ...]  # every security of the book, indexed by ``security``
    benchmark_names: tuple[str, ...]
    security: IntArray  # (N,) the pair's security in the book
    position: IntArray  # (N,) index of day 0 within the security's own series (0 when it has none)
    day0: DateArray  # (N,) NaT where day 0 is unknown
    problem_code: npt.NDArray[np.int8]  # (N,) why a pair has no usable day 0 (0: it has one), see book.PROBLEMS
    waiting: BoolArray  # (N,) the problem is only that day 0 has not come or closed yet (study pending)
    rel: IntArray  # (T,)
    dates: DateArray  # (T, N) the session at each relative day, NaT outside the security's data
    present: BoolArray  # (T, N) the session is inside the security's data
    valid: BoolArray  # (T, N) a usable return pair ends on this session
    ret: FloatArray  # (T, N) NaN where not valid
    bench: FloatArray  # (T, N) benchmark compounded over each return's sessions
    bench_sum: FloatArray  # (T, N) sum of the benchmark's session returns over the same sessions
    span: FloatArray  # (T, N) sessions spanned (float for arithmetic), 0 where not valid
    status: npt.NDArray[np.int8]  # (T, N) DayStatus codes
    estimation_ok: BoolArray  # (T, N) valid and allowed into estimation (not suspect, no excluded session)
    delisted_on: IntArray  # (N,) day number of a known delisting (int64 max: none)

    @property
    def n(self) -> int:
        return len(self.security)

    @property
    def halted(self) -> BoolArray:
        out: BoolArray = self.status == HALTED_CODE
        return out

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.security.tolist())

    @property
    def benchmarks(self) -> tuple[str, ...]:
        return tuple(self.benchmark_names[i] for i in self.security.tolist())

    @property
    def problem(self) -> tuple[str | None, ...]:
        """Why each pair has no usable day 0 (None: it has one), as text."""
        return tuple(self.problem_text(i) for i in range(self.n))

    def problem_text(self, column: int) -> str | None:
        from monitor.study.book import PROBLEMS

        template = PROBLEMS[int(self.problem_code[column])]
        if template is None:
            return None
        day0 = self.day0[column]
        return template.format(day0="" if np.isnat(day0) else str(day0))

    def regressor(self, model: str) -> FloatArray:
        """The benchmark series a model uses: summed session returns for the market model, else compounded."""
        return self.bench_sum if model == "market" else self.bench

    def row(self, rel_day: int) -> int:
        return int(rel_day - self.rel[0])

    def columns(self, picked: slice) -> EventPanel:
        """The panel of a contiguous run of pairs (one event of a batch): views, no copies."""
        return EventPanel(
            self.names, self.benchmark_names, self.security[picked], self.position[picked], self.day0[picked],
            self.problem_code[picked],
            self.waiting[picked], self.rel, self.dates[:, picked], self.present[:, picked], self.valid[:, picked],
            self.ret[:, picked], self.bench[:, picked], self.bench_sum[:, picked], self.span[:, picked],
            self.status[:, picked], self.estimation_ok[:, picked], self.delisted_on[picked],
        )  # fmt: skip


def build_panel(series: Sequence[SecuritySeries], rel_first: int, rel_last: int, extend: int = 0) -> EventPanel:
    """One event's securities (each with its own day 0) as a panel; see ``monitor.study.book.gather``."""
    from monitor.study.book import Pairs, SeriesBook, gather

    count = len(series)
    day0 = np.array([s.day0 for s in series], dtype="datetime64[D]")  # None reads as NaT
    pairs = Pairs(np.zeros(count, dtype=np.int64), np.arange(count, dtype=np.int64), day0)
    return gather(SeriesBook.of(series), pairs, rel_first, rel_last, extend)
