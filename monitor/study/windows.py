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
from scipy import stats

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
    a, b = window
    count = rows.valid.shape[0]
    row_a, row_b = rows.row(a), rows.row(b)
    covering = rows.next_valid[row_b]
    complete = covering < count
    end = np.where(complete, covering, row_b)
    index = np.arange(count)[:, None]
    mask = rows.valid & (index >= row_a) & (index <= end[None, :])
    car = np.where(mask, rows.ar, 0.0).sum(axis=0)
    g_k = np.where(mask, rows.span, 0.0).sum(axis=0)
    g_b = np.where(mask, rows.regressor, 0.0).sum(axis=0)
    has: BoolArray = np.asarray(mask.any(axis=0), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(has, fit.sum_variance(g_k, g_b), np.nan)
        t = car / np.sqrt(variance)
        p = 2.0 * stats.t.sf(np.abs(t), np.maximum(fit.df, 1))
        bhar = np.prod(np.where(mask, 1.0 + rows.ret, 1.0), axis=0) - np.prod(
            np.where(mask, 1.0 + rows.expected, 1.0), axis=0
        )
    starts = np.where(mask, rows.rel[:, None] - rows.span.astype(np.int64) + 1, np.iinfo(np.int64).max)
    return WindowArrays(
        window=window,
        mask=mask,
        has=has,
        complete=complete,
        car=np.where(has, car, np.nan),
        sessions=g_k,
        variance=variance,
        t=np.where(has, t, np.nan),
        p=np.where(has, p, np.nan),
        bhar=np.where(has, bhar, np.nan),
        first=starts.min(axis=0),
        last_row=end.astype(np.int64),
    )
