"""What a batch keeps after the arithmetic: compact arrays per pair and per event, and the objects built from them
only when a caller asks.

``Kept`` holds the event-window rows and per-pair numbers of a chunk of pairs in small dtypes (estimation rows are
dropped once the model is fitted), so 100,000 studied pairs stay well under 100 MB. ``EventStats`` holds every
event's tests as (windows × events) arrays. ``EventResult.securities`` and ``EventResult.aggregate`` turn them into
``SecurityResult``/``Aggregate`` objects on first access, for one event at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from monitor.study.aggregate import DailyAar, Tests
from monitor.study.book import SeriesBook
from monitor.study.inputs import BoolArray, DateArray, FloatArray, IntArray
from monitor.study.params import StudyParams, window_label
from monitor.study.results import AarDay, Aggregate, Placebo, SecurityResult, WindowTests, clean
from monitor.study.statistics import normal_statistic, t_statistic


@dataclass(frozen=True)
class Kept:
    """Per-pair arrays of one chunk: event rows (T, P) from the window's first day, windows (W, P), scalars (P,)."""

    book: SeriesBook  # the inputs: returns, dates and day statuses are read back from it, not copied
    security: IntArray
    day0: DateArray
    origin: IntArray  # (P,) flat index in the book of each pair's first event row (window's first day)
    problem: npt.NDArray[np.int8]
    rel: IntArray  # (T,)
    ar: FloatArray
    ar_variance: FloatArray
    alpha: FloatArray
    beta: FloatArray
    s2: FloatArray
    n_estimation: npt.NDArray[np.int32]
    df: npt.NDArray[np.int32]
    fit_problem: npt.NDArray[np.int8]
    status: npt.NDArray[np.int8]  # StudyStatus codes
    windows: tuple[tuple[int, int], ...]
    car: FloatArray  # (W, P)
    variance: FloatArray
    bhar: FloatArray
    first: npt.NDArray[np.int16]
    last_row: npt.NDArray[np.int16]
    has: BoolArray
    complete: BoolArray

    @property
    def pairs(self) -> int:
        return len(self.security)

    @property
    def names(self) -> tuple[str, ...]:
        return self.book.symbols

    @property
    def benchmark_names(self) -> tuple[str, ...]:
        return self.book.benchmarks

    def rows(self, columns: slice, height: int) -> EventRowsView:
        """The first ``height`` event rows of some pairs, gathered back from the book."""
        book = self.book
        security = self.security[columns]
        start, end = book.offsets[security], book.offsets[security + 1]
        padded = book.padded
        index, present = padded.index(start, end, self.origin[columns], self.problem[columns] == 0,
                                      np.arange(height, dtype=np.int64))  # fmt: skip
        return EventRowsView(
            present=present,
            valid=padded.valid.take(index),
            dates=padded.sessions.take(index),
            ret=padded.returns.take(index),
            bench=padded.benchmark_returns.take(index),
            span=padded.spans.take(index),
            status=padded.status.take(index),
        )


@dataclass(frozen=True)
class EventRowsView:
    """(T, P) rows of some pairs, read back from the book for display."""

    present: BoolArray
    valid: BoolArray
    dates: DateArray
    ret: FloatArray
    bench: FloatArray
    span: FloatArray
    status: npt.NDArray[np.int8]


@dataclass(frozen=True)
class EventStats:
    """Every event of a chunk: tests (W, E), daily AARs (T_days, E), placebos, and where its columns are."""

    windows: tuple[tuple[int, int], ...]
    starts: IntArray
    counts: IntArray
    tests: Tests
    daily: DailyAar
    day_rel: IntArray  # (T_days,) the window's relative days
    rbar: FloatArray
    portfolio_df: IntArray
    placebos: tuple[Placebo | None, ...]

    def aggregate(self, event: int, params: StudyParams) -> Aggregate:
        per = [self._window(w, event, params) for w in range(len(self.windows))]
        main, *subs = per
        daily = self.daily
        aar = tuple(
            AarDay(rel_day=int(rel), aar=clean(a), n=int(n), t=clean(t), bmp_t=clean(b))
            for rel, a, n, t, b in zip(
                self.day_rel.tolist(),
                daily.aar[:, event].tolist(),
                daily.n[:, event].tolist(),
                daily.t[:, event].tolist(),
                daily.bmp_t[:, event].tolist(),
                strict=True,
            )
        )
        return Aggregate(
            n=main.n,
            caar=main.caar,
            aar=aar,
            tests=main,
            rank_z_day0=normal_statistic(float(self.tests.rank_z_day0[event])),
            sub_windows={window_label(t.window): t for t in subs},
            placebo=self.placebos[event],
            include_partial=params.include_partial,
        )

    def _window(self, w: int, e: int, params: StudyParams) -> WindowTests:
        t = self.tests
        n = int(t.n[w, e])
        window = self.windows[w]
        if n == 0:
            return WindowTests(window=window, n=0, caar=None, sessions=None, n_too_small=True)

        def value(array: FloatArray) -> float:
            return float(array[w, e])

        return WindowTests(
            window=window,
            n=n,
            caar=clean(value(t.caar)),
            sessions=clean(value(t.sessions)),
            cross_sectional_t=t_statistic(value(t.cross_sectional_t), n - 1),
            patell_z=normal_statistic(value(t.patell_z)),
            bmp_t=t_statistic(value(t.bmp_t), n - 1),
            kp_bmp_t=t_statistic(value(t.kp_bmp_t), n - 1),
            portfolio_t=t_statistic(value(t.portfolio_t), int(self.portfolio_df[e])),
            rank_z=normal_statistic(value(t.rank_z)),
            generalized_sign_z=normal_statistic(value(t.generalized_sign_z)),
            mean_residual_correlation=clean(float(self.rbar[e])) if n >= 1 else None,
            kp_factor=clean(value(t.kp_factor)),
            n_too_small=n < params.min_securities,
        )


class LazySecurities(Sequence[SecurityResult]):
    """An event's ``SecurityResult`` objects, built from ``Kept`` (all of the event at once) on first access."""

    def __init__(self, kept: Kept, columns: slice, params: StudyParams) -> None:
        self._kept = kept
        self._columns = columns
        self._params = params
        self._built: tuple[SecurityResult, ...] | None = None

    def _all(self) -> tuple[SecurityResult, ...]:
        if self._built is None:
            from monitor.study.records import security_records

            self._built = security_records(self._kept, self._columns, self._params)
        return self._built

    def __len__(self) -> int:
        return int(self._columns.stop - self._columns.start)

    @overload
    def __getitem__(self, index: int) -> SecurityResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SecurityResult]: ...
    def __getitem__(self, index: int | slice) -> SecurityResult | Sequence[SecurityResult]:
        return self._all()[index]

    def __iter__(self) -> Iterator[SecurityResult]:
        return iter(self._all())

    def __repr__(self) -> str:
        return f"LazySecurities({len(self)} securities{'' if self._built is None else ', built'})"

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols in order, without building any record."""
        names = self._kept.names
        return tuple(names[i] for i in self._kept.security[self._columns].tolist())
