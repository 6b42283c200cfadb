"""Many securities' series in flat arrays, and the event-time panel of any (event, security) pairs in one gather.

A ``SeriesBook`` concatenates every security's arrays once (``offsets`` mark where each starts), so the inputs of
thousands of (event, security) pairs are gathered with a handful of fancy-indexing operations and no Python loop
over pairs: a backfill studies each security's one series against all of its events. ``Pairs`` lists the pairs;
``gather`` lays them side by side as the columns of an ``EventPanel`` (rows are sessions relative to each pair's
own day 0, on the security's own exchange calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.models import DayStatus
from monitor.study.inputs import NAT, BoolArray, DateArray, EventPanel, FloatArray, IntArray, SecuritySeries

Int8Array = npt.NDArray[np.int8]
HALTED_CODE = DayStatus.code(DayStatus.HALTED)
NO_DATA_CODE = DayStatus.code(DayStatus.NO_DATA)
SUSPECT_CODE = DayStatus.code(DayStatus.SUSPECT)
_DAY = np.int64(1 << 32)  # a search key is security × 2³² + day number: sorted when each series is


def _days(values: DateArray) -> IntArray:
    out: IntArray = values.astype("datetime64[D]").view(np.int64)
    return out


@dataclass(frozen=True, eq=False)
class SeriesBook:
    """Every security's series concatenated: ``flat[offsets[s]:offsets[s+1]]`` is security ``s``."""

    symbols: tuple[str, ...]
    benchmarks: tuple[str, ...]
    offsets: IntArray  # (S+1,)
    sessions: IntArray  # day numbers (days since 1970-01-01)
    returns: FloatArray
    benchmark_returns: FloatArray
    benchmark_sums: FloatArray
    spans: IntArray
    status: Int8Array  # DayStatus codes
    estimation_ok: BoolArray  # the return may enter estimation (not suspect, no excluded date in its span)
    listed_on: IntArray  # (S,) day number, or the smallest int64 when unknown
    delisted_on: IntArray  # (S,) day number, or the largest int64 when unknown
    keys: IntArray  # security << 32 | day, sorted: one searchsorted finds every pair's day 0

    @classmethod
    def of(cls, series: Sequence[SecuritySeries], exclude: Sequence[date] = ()) -> SeriesBook:
        """One concatenation of the series (once per universe, not per pair). ``exclude`` holds dates whose
        returns must not enter any estimation window (known leaks), on top of each series' own exclusions."""
        lengths = np.fromiter((len(s.sessions) for s in series), dtype=np.int64, count=len(series))
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)

        def flat(field: str, dtype: npt.DTypeLike) -> npt.NDArray[np.generic]:
            if not series:
                return np.zeros(0, dtype=dtype)
            return np.concatenate([np.asarray(getattr(s, field)) for s in series]).astype(dtype, copy=False)

        sessions = _days(flat("sessions", "datetime64[D]"))  # type: ignore[arg-type]
        owner = np.repeat(np.arange(len(series), dtype=np.int64), lengths)
        status = flat("day_status", np.int8)
        returns = flat("returns", np.float64)
        spans = flat("spans", np.int64)
        excluded = np.asarray(flat("excluded", np.bool_), dtype=bool)
        if len(exclude):
            excluded = excluded | np.isin(sessions, _days(np.asarray(exclude, dtype="datetime64[D]")))
        # A return is kept out of estimation when any session it spans is excluded: a cumulative count tells.
        count = np.concatenate(([0], np.cumsum(excluded)))
        at = np.arange(len(sessions))
        touched = count[at + 1] - count[np.maximum(at + 1 - np.maximum(spans, 1), 0)] > 0
        low, high = np.iinfo(np.int64).min, np.iinfo(np.int64).max

        def day_or(values: list[date | None], default: int) -> IntArray:
            days = np.array(values, dtype="datetime64[D]")  # None reads as NaT
            out: IntArray = np.where(np.isnat(days), default, days.view(np.int64))
            return out

        return cls(
            symbols=tuple(s.symbol for s in series),
            benchmarks=tuple(s.benchmark for s in series),
            offsets=offsets,
            sessions=sessions,
            returns=returns,  # type: ignore[arg-type]
            benchmark_returns=flat("benchmark_returns", np.float64),  # type: ignore[arg-type]
            benchmark_sums=flat("regressor_sums", np.float64),  # type: ignore[arg-type]
            spans=spans,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            estimation_ok=(status != SUSPECT_CODE) & ~touched,
            listed_on=day_or([s.listed_on for s in series], low),
            delisted_on=day_or([s.delisted_on for s in series], high),
            keys=owner * _DAY + sessions,
        )

    def __len__(self) -> int:
        return len(self.symbols)

    @cached_property
    def padded(self) -> Padded:
        """The arrays a gather reads, masked once per book instead of once per pair and row."""
        return Padded.of(self)


@dataclass(frozen=True)
class Padded:
    """The book's flat arrays already masked the way a panel shows them, with one sentinel entry appended.

    A gather points every cell outside a pair's data at the sentinel (index ``len(book.sessions)``), so each field
    is a single fancy-indexing take: no per-cell ``np.where`` against the validity mask and no special case for an
    empty book. Values where no usable return ends are NaN (spans 0); the sentinel is not present, not valid, NaT
    and ``no_data``.
    """

    sentinel: int
    valid: BoolArray  # a usable (security, benchmark) return pair ends on the session
    estimation_ok: BoolArray  # valid and allowed into estimation
    sessions: DateArray  # datetime64[D]
    returns: FloatArray
    benchmark_returns: FloatArray
    benchmark_sums: FloatArray
    spans: FloatArray  # float for arithmetic, 0 where not valid
    status: Int8Array

    @classmethod
    def of(cls, book: SeriesBook) -> Padded:
        size = len(book.sessions)
        valid = np.zeros(size + 1, dtype=bool)
        valid[:size] = valid_flat(book, np.arange(size))
        sessions = np.empty(size + 1, dtype="datetime64[D]")
        sessions[:size] = book.sessions.astype("datetime64[D]")
        sessions[size] = NAT
        status = np.append(book.status, np.int8(NO_DATA_CODE)).astype(np.int8)

        def masked(values: npt.NDArray[Any], fill: float) -> FloatArray:
            out: FloatArray = np.full(size + 1, fill, dtype=np.float64)
            out[:size] = np.where(valid[:size], values, fill)
            return out

        return cls(
            sentinel=size,
            valid=valid,
            estimation_ok=valid & np.append(book.estimation_ok, False),
            sessions=sessions,
            returns=masked(book.returns, np.nan),
            benchmark_returns=masked(book.benchmark_returns, np.nan),
            benchmark_sums=masked(book.benchmark_sums, np.nan),
            spans=masked(book.spans, 0.0),
            status=status,
        )

    def index(self, start: IntArray, end: IntArray, origin: IntArray, known: BoolArray, rel: IntArray,
              ) -> tuple[IntArray, BoolArray]:  # fmt: skip
        """(T, N) flat indices of rows ``origin + rel`` of each column (the sentinel outside ``[start, end)`` or
        where ``known`` is false), and which cells are present."""
        index = origin[None, :] + rel[:, None]
        present = known[None, :] & (index >= start[None, :]) & (index < end[None, :])
        out: IntArray = np.where(present, index, self.sentinel)
        return out, present


@dataclass(frozen=True)
class Pairs:
    """(event, security) pairs, grouped by event: ``event`` is non-decreasing, one segment per event."""

    event: IntArray  # (P,)
    security: IntArray  # (P,) index into the book
    day0: DateArray  # (P,) NaT where day 0 is not known yet

    def __post_init__(self) -> None:
        if not (len(self.event) == len(self.security) == len(self.day0)):
            raise ValueError("event, security and day0 must have one entry per pair")
        if len(self.event) > 1 and bool(np.any(np.diff(self.event) < 0)):
            raise ValueError("pairs must be grouped by event (event indices non-decreasing)")

    def __len__(self) -> int:
        return len(self.event)

    def take(self, rows: slice) -> Pairs:
        return Pairs(self.event[rows], self.security[rows], self.day0[rows])


@dataclass(frozen=True)
class Located:
    """Where each pair's day 0 sits in its security's series, and why a pair cannot be placed."""

    position: IntArray  # (P,) index of day 0 within the security's own series
    known: BoolArray  # day 0 is a session of the series
    problem: Int8Array  # 0 none, see PROBLEMS


PROBLEMS = (
    None,
    "day 0 is not known yet (no session has closed since the announcement)",
    "no prices yet for day 0 ({day0})",
    "day 0 {day0} is not a session in the price history",
    "listed after day 0 ({day0}): it could not react",
)
NO_PROBLEM, UNKNOWN_DAY0, NO_PRICES_YET, NOT_A_SESSION, LISTED_LATER = range(5)


def locate(book: SeriesBook, pairs: Pairs) -> Located:
    """Each pair's day-0 position, with one ``searchsorted`` over the whole book."""
    unknown = np.isnat(pairs.day0)
    days = np.where(unknown, 0, _days(pairs.day0))
    start, end = book.offsets[pairs.security], book.offsets[pairs.security + 1]
    found = np.searchsorted(book.keys, pairs.security * _DAY + days)
    last = max(len(book.sessions) - 1, 0)
    exact = (found < end) & (book.sessions[np.minimum(found, last)] == days) if len(book.sessions) else found < 0
    first_day = book.sessions[np.minimum(start, last)] if len(book.sessions) else days
    problem = np.full(len(pairs), NOT_A_SESSION, dtype=np.int8)
    problem[exact] = NO_PROBLEM
    problem[~exact & (found >= end)] = NO_PRICES_YET
    problem[~exact & (end > start) & (first_day > days)] = LISTED_LATER
    problem[book.listed_on[pairs.security] > days] = LISTED_LATER
    problem[unknown] = UNKNOWN_DAY0
    known = problem == NO_PROBLEM
    return Located(position=np.where(known, found - start, 0), known=known, problem=problem)


def _extension(book: SeriesBook, pairs: Pairs, at: Located, rel_last: int, most: int) -> int:
    """Rows past ``rel_last`` needed to reach the return that ends a halt still running on ``rel_last``."""
    if most <= 0 or not len(pairs):
        return 0
    start, end = book.offsets[pairs.security], book.offsets[pairs.security + 1]
    index = start + at.position + rel_last
    inside = at.known & (index >= start) & (index < end)
    safe = np.where(inside, index, 0)
    valid = book.padded.valid
    open_ = inside & ~valid[np.where(inside, index, book.padded.sentinel)]
    if not open_.any():
        return 0
    ahead = safe[open_, None] + np.arange(1, most + 1)[None, :]
    room = ahead < end[open_, None]
    ok = room & valid[np.where(room, ahead, book.padded.sentinel)]
    first = np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, np.minimum(most, end[open_] - 1 - safe[open_]))
    return int(first.max(initial=0))


def valid_flat(book: SeriesBook, index: IntArray) -> BoolArray:
    out: BoolArray = (
        np.isfinite(book.returns[index])
        & np.isfinite(book.benchmark_returns[index])
        & np.isfinite(book.benchmark_sums[index])
        & (book.spans[index] >= 1)
    )
    return out


def gather(book: SeriesBook, pairs: Pairs, rel_first: int, rel_last: int, extend: int = 0) -> EventPanel:
    """Every pair's arrays at relative sessions ``rel_first..rel_last`` (plus the rows a halt running on the last
    one needs, at most ``extend``) as the columns of one panel: one fancy-indexing take per field."""
    at = locate(book, pairs)
    rel_last += _extension(book, pairs, at, rel_last, extend)
    rel = np.arange(rel_first, rel_last + 1, dtype=np.int64)
    start, end = book.offsets[pairs.security], book.offsets[pairs.security + 1]
    padded = book.padded
    index, present = padded.index(start, end, start + at.position, at.known, rel)
    return EventPanel(
        names=book.symbols,
        benchmark_names=book.benchmarks,
        security=pairs.security,
        position=at.position,
        day0=pairs.day0.astype("datetime64[D]"),
        problem_code=at.problem,
        waiting=np.isin(at.problem, (UNKNOWN_DAY0, NO_PRICES_YET)),
        rel=rel,
        dates=padded.sessions.take(index),
        present=present,
        valid=padded.valid.take(index),
        ret=padded.returns.take(index),
        bench=padded.benchmark_returns.take(index),
        bench_sum=padded.benchmark_sums.take(index),
        span=padded.spans.take(index),
        status=padded.status.take(index),
        estimation_ok=padded.estimation_ok.take(index),
        delisted_on=book.delisted_on[pairs.security],
    )
