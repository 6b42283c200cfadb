"""Engine inputs: one security's trade-to-trade returns, and the event-time panel all of an event's securities share.

A security's series lives on its own exchange's sessions. A session with no return ending on it (a halt, a missing
bar, or a missing benchmark close) carries NaN; the next return spans every session since the last one, and its
benchmark return is compounded over exactly those sessions. Securities are then aligned by event time (the session
index relative to each one's own day 0) into (rows x securities) arrays so every later step is a vectorised pass.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from monitor.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]

NAT = np.datetime64("NaT", "D")


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

    def __post_init__(self) -> None:
        n = len(self.sessions)
        if self.benchmark_sums is None:
            object.__setattr__(self, "benchmark_sums", self.benchmark_returns)
        for name in ("returns", "benchmark_returns", "benchmark_sums", "spans", "halted"):
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
    ) -> SecuritySeries:
        """Trade-to-trade returns from closes on every session (NaN where there is no bar).

        A return is measured only between sessions where both the security and its benchmark closed, so a halt and
        a missing benchmark day are handled alike: the next return spans the gap and the benchmark is compounded
        over the same sessions (a ratio of its closes). Never a zero return for a day that did not trade.
        ``halted`` marks sessions the security was suspended (zero volume); they are the ``halted`` flags kept on
        the series. Without it, a session with no close between the first and the last close counts as halted.
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
        return cls(symbol, benchmark, day0, days, returns, bench_returns, spans, flags, bench_sums)


@dataclass(frozen=True)
class EventPanel:
    """All securities of one event on a common event-time axis: row ``r`` is relative session ``rel[r]``."""

    symbols: tuple[str, ...]
    benchmarks: tuple[str, ...]
    day0: DateArray  # (N,) NaT where day 0 is unknown
    problem: tuple[str | None, ...]  # why a security has no usable day 0, else None
    waiting: BoolArray  # (N,) the problem is only that day 0 has not come or closed yet (study pending)
    rel: IntArray  # (T,)
    dates: DateArray  # (T, N) the session at each relative day, NaT outside the security's data
    present: BoolArray  # (T, N) the session is inside the security's data
    valid: BoolArray  # (T, N) a usable return pair ends on this session
    ret: FloatArray  # (T, N) NaN where not valid
    bench: FloatArray  # (T, N) benchmark compounded over each return's sessions
    bench_sum: FloatArray  # (T, N) sum of the benchmark's session returns over the same sessions
    span: FloatArray  # (T, N) sessions spanned (float for arithmetic), 0 where not valid
    halted: BoolArray  # (T, N)

    @property
    def n(self) -> int:
        return len(self.symbols)

    def regressor(self, model: str) -> FloatArray:
        """The benchmark series a model uses: summed session returns for the market model, else compounded."""
        return self.bench_sum if model == "market" else self.bench

    def row(self, rel_day: int) -> int:
        return int(rel_day - self.rel[0])


def _usable_at(s: SecuritySeries, at: int) -> bool:
    values = (float(s.returns[at]), float(s.benchmark_returns[at]), float(s.regressor_sums[at]))
    return all(math.isfinite(v) for v in values) and int(s.spans[at]) >= 1


def _usable(s: SecuritySeries, rows: slice) -> BoolArray:
    """SecuritySeries.valid on a few rows only."""
    ok = np.isfinite(s.returns[rows]) & np.isfinite(s.benchmark_returns[rows]) & np.isfinite(s.regressor_sums[rows])
    out: BoolArray = ok & (s.spans[rows] >= 1)
    return out


def _extension(series: Sequence[SecuritySeries], position: IntArray, known: BoolArray, rel_last: int, most: int) -> int:
    """Rows past ``rel_last`` needed to reach the return that ends a halt still running on ``rel_last``."""
    need = 0
    for i in np.flatnonzero(known).tolist():  # a scalar check per security; the search runs only for halted ones
        s = series[i]
        at = int(position[i]) + rel_last
        if at < 0 or at >= len(s.sessions) or _usable_at(s, at):
            continue
        ahead = np.flatnonzero(_usable(s, slice(at + 1, at + 1 + most)))
        need = max(need, int(ahead[0]) + 1 if len(ahead) else min(most, len(s.sessions) - 1 - at))
    return need


def build_panel(series: Sequence[SecuritySeries], rel_first: int, rel_last: int, extend: int = 0) -> EventPanel:
    """Gather every security's arrays at relative sessions ``rel_first..rel_last`` in one fancy-indexing pass.

    With ``extend`` the panel runs on, by at most that many sessions, until every security halted on ``rel_last``
    has its next return (so a window ending in a halt can take the return that ends it).
    """
    count = len(series)
    lengths = np.array([len(s.sessions) for s in series], dtype=np.int64)
    day0 = np.full(count, NAT)
    position = np.zeros(count, dtype=np.int64)
    problems: list[str | None] = []
    waiting = np.zeros(count, dtype=bool)
    for i, s in enumerate(series):  # one searchsorted per security; everything per day below is vectorised
        problem = None
        if s.day0 is None:
            problem = "day 0 is not known yet (no session has closed since the announcement)"
            waiting[i] = True
        else:
            d0 = np.datetime64(s.day0, "D")
            day0[i] = d0
            at = int(np.searchsorted(s.sessions, d0))
            if at >= len(s.sessions):
                problem = f"no prices yet for day 0 ({s.day0.isoformat()})"
                waiting[i] = True
            elif s.sessions[at] != d0:
                problem = f"day 0 {s.day0.isoformat()} is not a session in the price history"
            position[i] = at
        problems.append(problem)
    known = np.array([p is None for p in problems], dtype=bool)
    if extend:
        rel_last += _extension(series, position, known, rel_last, extend)

    rel = np.arange(rel_first, rel_last + 1, dtype=np.int64)
    # Only each security's rows rel_first..rel_last are copied: slices of its arrays, concatenated once per field.
    lo = np.where(known, np.clip(position + rel_first, 0, lengths), 0)
    hi = np.where(known, np.clip(position + rel_last + 1, 0, lengths), 0)
    cuts = list(zip(lo.tolist(), hi.tolist(), strict=True))
    offsets = np.concatenate(([0], np.cumsum(hi - lo)[:-1])).astype(np.int64) if count else np.zeros(0, np.int64)
    local = position[None, :] + rel[:, None]
    present = known[None, :] & (local >= 0) & (local < lengths[None, :])
    index = np.where(present, offsets[None, :] + local - lo[None, :], 0)

    def gather(field: str, fill: object, dtype: npt.DTypeLike) -> npt.NDArray[np.generic]:
        parts = [getattr(s, field)[a:b] for s, (a, b) in zip(series, cuts, strict=True)]
        flat = np.concatenate([*parts, np.zeros(1, dtype=dtype)]).astype(dtype, copy=False)
        return np.where(present, flat[index], np.asarray(fill, dtype=dtype))

    ret = gather("returns", np.nan, np.float64)
    bench = gather("benchmark_returns", np.nan, np.float64)
    bench_sum = gather("regressor_sums", np.nan, np.float64)
    span = gather("spans", 0, np.int64).astype(np.float64)
    # The same rule as SecuritySeries.valid, applied only to the gathered rows.
    valid = present & np.isfinite(ret) & np.isfinite(bench) & np.isfinite(bench_sum) & (span >= 1)
    ret = np.where(valid, ret, np.nan)
    bench = np.where(valid, bench, np.nan)
    bench_sum = np.where(valid, bench_sum, np.nan)
    span = np.where(valid, span, 0.0)
    halted = gather("halted", False, np.bool_).astype(bool)
    dates = gather("sessions", NAT, "datetime64[D]")
    return EventPanel(
        symbols=tuple(s.symbol for s in series),
        benchmarks=tuple(s.benchmark for s in series),
        day0=day0,
        problem=tuple(problems),
        waiting=waiting,
        rel=rel,
        dates=dates.astype("datetime64[D]"),
        present=present,
        valid=valid,
        ret=ret.astype(np.float64),
        bench=bench.astype(np.float64),
        bench_sum=bench_sum.astype(np.float64),
        span=span,
        halted=halted,
    )
