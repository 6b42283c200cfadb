"""Abnormal returns of the event rows and the CARs of any window, for all securities at once.

A window ``[a, b]`` takes every return whose span overlaps it: the returns ending on sessions ``a..b`` and, when
session ``b`` did not trade, the return that ends on the first traded session after it (it contains ``b``'s move).
So a halt inside or at the end of a window is measured trade-to-trade as one lumped abnormal return, with its
variance from the sessions it spans (§1.6), and a security halted on day 0 gets its day-0 reaction on its first
traded session. The window's effective first and last sessions are reported beside each CAR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from monitor.study.inputs import BoolArray, FloatArray, IntArray
from monitor.study.normal import Fit
from monitor.study.placebo import next_valid_rows


@dataclass(frozen=True)
class EventRows:
    """The event-window rows (from the window's first day through the halt extension) with their ARs."""

    rel: IntArray  # (T,) relative session of each row
    valid: BoolArray  # (T, N)
    present: BoolArray
    ret: FloatArray
    bench: FloatArray  # compounded benchmark return (shown beside the security's return)
    regressor: FloatArray  # the benchmark series the model uses (see EventPanel.regressor)
    span: FloatArray
    expected: FloatArray  # normal return of each observation
    ar: FloatArray  # NaN where no return ends
    ar_variance: FloatArray  # with the prediction-error term, scaled by the sessions spanned
    next_valid: IntArray  # first row at or after each row on which a return ends (T: none yet)

    @classmethod
    def build(
        cls,
        fit: Fit,
        rel: IntArray,
        valid: BoolArray,
        present: BoolArray,
        ret: FloatArray,
        bench: FloatArray,
        regressor: FloatArray,
        span: FloatArray,
    ) -> EventRows:
        expected = fit.expected(span, regressor)
        with np.errstate(invalid="ignore"):
            ar = np.where(valid, ret - expected, np.nan)
            variance = np.where(valid, fit.sum_variance(span, regressor), np.nan)
        return cls(rel, valid, present, ret, bench, regressor, span, expected, ar, variance, next_valid_rows(valid))

    def row(self, rel_day: int) -> int:
        return int(rel_day - self.rel[0])


@dataclass(frozen=True)
class WindowArrays:
    """(N,) measurements of one window for every security."""

    window: tuple[int, int]
    mask: BoolArray  # (T, N) the observations the window includes
    has: BoolArray  # at least one return in the window
    complete: BoolArray  # the return covering the window's last session is in
    car: FloatArray
    sessions: FloatArray  # Σk: sessions the included returns cover
    variance: FloatArray  # exact Var(CAR) from §1.4 over those returns
    t: FloatArray
    p: FloatArray
    bhar: FloatArray
    first: IntArray  # first session covered (relative), for display
    last_row: IntArray  # row of the last included return (or of the window's end when incomplete)


def measure(rows: EventRows, fit: Fit, window: tuple[int, int]) -> WindowArrays:
    return measure_all(rows, fit, [window])[0]


def measure_all(rows: EventRows, fit: Fit, windows: list[tuple[int, int]]) -> list[WindowArrays]:
    """Every window at once on (W, T, N) masks: one pass whatever the number of windows."""
    count = rows.valid.shape[0]
    row_a = np.array([rows.row(a) for a, _ in windows], dtype=np.int64)
    row_b = np.array([rows.row(b) for _, b in windows], dtype=np.int64)
    covering = rows.next_valid[row_b]  # (W, N)
    complete = covering < count
    end = np.where(complete, covering, row_b[:, None])
    index = np.arange(count)[None, :, None]
    mask = rows.valid[None] & (index >= row_a[:, None, None]) & (index <= end[:, None, :])
    car = np.where(mask, rows.ar[None], 0.0).sum(axis=1)
    g_k = np.where(mask, rows.span[None], 0.0).sum(axis=1)
    g_b = np.where(mask, rows.regressor[None], 0.0).sum(axis=1)
    has: BoolArray = np.asarray(mask.any(axis=1), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(has, fit.sum_variance(g_k, g_b), np.nan)
        t = car / np.sqrt(variance)
        p = 2.0 * special.stdtr(np.maximum(fit.df, 1), -np.abs(t))
        bhar = np.prod(np.where(mask, 1.0 + rows.ret[None], 1.0), axis=1) - np.prod(
            np.where(mask, 1.0 + rows.expected[None], 1.0), axis=1
        )
    starts = np.where(mask, (rows.rel[:, None] - rows.span.astype(np.int64) + 1)[None], np.iinfo(np.int64).max)
    first = starts.min(axis=1)
    return [
        WindowArrays(
            window=window,
            mask=mask[w],
            has=has[w],
            complete=complete[w],
            car=np.where(has[w], car[w], np.nan),
            sessions=g_k[w],
            variance=variance[w],
            t=np.where(has[w], t[w], np.nan),
            p=np.where(has[w], p[w], np.nan),
            bhar=np.where(has[w], bhar[w], np.nan),
            first=first[w],
            last_row=end[w].astype(np.int64),
        )
        for w, window in enumerate(windows)
    ]
