"""Placebo-date p-value for the CAAR: the same securities, re-studied on random earlier event-free dates.

Each draw moves day 0 back by ``d`` sessions and reruns the whole estimate-then-cumulate step. Every quantity the
model and the CAR need is a window sum, so prefix sums along event time give all (draw, security) pairs at once:
hundreds of re-estimated studies cost a few gathers, not a loop. Windows follow the same rule as the real study
(a return that covers the window's last session is included, so a halt never truncates a placebo CAR).
"""

from __future__ import annotations

import numpy as np

from monitor.study.inputs import BoolArray, EventPanel, FloatArray, IntArray
from monitor.study.params import StudyParams
from monitor.study.results import Placebo


def next_valid_rows(valid: BoolArray) -> IntArray:
    """For each row, the first row at or after it on which a return ends (``len(valid)`` when none does)."""
    rows = valid.shape[0]
    index = np.where(valid, np.arange(rows, dtype=np.int64)[:, None], rows)
    out: IntArray = np.minimum.accumulate(index[::-1], axis=0)[::-1]
    return out


def candidate_shifts(panel: EventPanel, params: StudyParams, used: BoolArray) -> IntArray:
    """Shifts whose placebo window ends before the real one and whose estimation window every security's history
    could fill with ``min_estimation`` returns."""
    est_first, est_last = params.estimation_range
    if not used.any():
        return np.zeros(0, dtype=np.int64)
    present = panel.present[:, used]
    first_present = panel.rel[np.argmax(present, axis=0)]
    deepest = int(np.min(est_last - first_present + 1 - params.min_estimation))
    deepest = min(deepest, params.placebo_lookback, est_first - int(panel.rel[0]))
    return np.arange(params.length, deepest + 1, dtype=np.int64)


def choose_shifts(candidates: IntArray, params: StudyParams) -> IntArray:
    """All candidates when there are no more than the draws asked for; else a seeded sample without replacement."""
    if len(candidates) <= params.placebo_draws:
        return candidates
    rng = np.random.default_rng(params.placebo_seed)
    return np.sort(rng.choice(candidates, size=params.placebo_draws, replace=False))


def _prefix(values: FloatArray) -> FloatArray:
    out = np.zeros((values.shape[0] + 1, values.shape[1]))
    np.cumsum(values, axis=0, out=out[1:])
    return out


def placebo_caars(panel: EventPanel, params: StudyParams, used: BoolArray, shifts: IntArray) -> FloatArray:
    """CAAR of the same securities with day 0 moved back by each shift (NaN when no security qualifies)."""
    first, last = params.window
    est_first, est_last = params.estimation_range
    valid = panel.valid[:, used]
    # As in the real study, estimation takes only the returns allowed into it: no suspect return, none spanning an
    # excluded session (a known leak, the same security's other event windows). A placebo window holding such a
    # return is not event-free data: that security sits the draw out.
    allowed = valid & panel.estimation_ok[:, used]
    k = np.where(valid, panel.span[:, used], 0.0)
    r = np.where(valid, panel.ret[:, used], 0.0)
    b = np.where(valid, panel.regressor(params.model)[:, used], 0.0)
    inv_k = np.where(valid, 1.0 / np.where(valid, k, 1.0), 0.0)
    c_n, c_k, c_r, c_b = _prefix(valid.astype(np.float64)), _prefix(k), _prefix(r), _prefix(b)
    e_k, e_r, e_b = (np.where(allowed, x, 0.0) for x in (k, r, b))
    c_en, c_ek, c_er, c_eb = _prefix(allowed.astype(np.float64)), _prefix(e_k), _prefix(e_r), _prefix(e_b)
    c_flag = _prefix((valid & ~allowed).astype(np.float64))
    columns = np.arange(valid.shape[1])[None, :]

    def window_sum(prefix: FloatArray, lo: IntArray, hi: IntArray) -> FloatArray:
        """Sums over rows lo..hi inclusive; lo is (D,1) or (D,N), hi (D,1) or (D,N)."""
        lo_b = np.broadcast_to(lo, (len(shifts), valid.shape[1]))
        hi_b = np.broadcast_to(hi, (len(shifts), valid.shape[1]))
        out: FloatArray = prefix[hi_b + 1, columns] - prefix[lo_b, columns]
        return out

    est_lo = (panel.row(est_first) - shifts)[:, None]
    est_hi = (panel.row(est_last) - shifts)[:, None]
    n = window_sum(c_en, est_lo, est_hi)
    sk = window_sum(c_ek, est_lo, est_hi)
    sr = window_sum(c_er, est_lo, est_hi)
    sb = window_sum(c_eb, est_lo, est_hi)
    ok = n >= params.min_estimation
    with np.errstate(invalid="ignore", divide="ignore"):
        if params.model == "market":
            sbb = window_sum(_prefix(e_b * e_b * inv_k), est_lo, est_hi)
            sbr = window_sum(_prefix(e_b * e_r * inv_k), est_lo, est_hi)
            smm = sbb - sb * sb / sk
            beta = (sbr - sb * sr / sk) / smm
            alpha = (sr - beta * sb) / sk
            ok &= smm > 0
        elif params.model == "constant-mean":
            alpha, beta = sr / sk, np.zeros_like(sr)
        else:
            alpha, beta = np.zeros_like(sr), np.ones_like(sr)

        start = (panel.row(first) - shifts)[:, None]
        next_rows = next_valid_rows(valid)
        end = next_rows[panel.row(last) - shifts, :]
        ok &= end < panel.row(first)  # the placebo window's returns all end before the real window starts
        end = np.where(ok, end, start)
        g_n = window_sum(c_n, start, end)
        ok &= g_n > 0
        ok &= window_sum(c_flag, start, end) == 0  # a suspect or excluded return in the placebo window
        car = window_sum(c_r, start, end) - alpha * window_sum(c_k, start, end) - beta * window_sum(c_b, start, end)
        counts = ok.sum(axis=1)
        caars: FloatArray = np.where(counts > 0, np.where(ok, car, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan)
    return caars


def placebo_test(panel: EventPanel, params: StudyParams, used: BoolArray, caar: float | None) -> Placebo | None:
    """Two-sided empirical p-value: (1 + #{|placebo CAAR| ≥ |CAAR|}) / (1 + draws)."""
    if params.placebo_draws == 0:
        return None
    if caar is None or not used.any():
        return Placebo(None, 0, note="no security has a CAR to compare")
    candidates = candidate_shifts(panel, params, used)
    if len(candidates) == 0:
        return Placebo(None, 0, note="the price histories are too short for an event-free placebo date")
    shifts = choose_shifts(candidates, params)
    caars = placebo_caars(panel, params, used, shifts)
    keep = np.isfinite(caars)
    shifts, caars = shifts[keep], caars[keep]
    if not len(caars):
        return Placebo(None, 0, note="no placebo date had enough estimation data")
    extreme = int(np.sum(np.abs(caars) >= abs(caar)))
    return Placebo(
        p_value=(1 + extreme) / (1 + len(caars)),
        draws=len(caars),
        shifts=tuple(int(s) for s in shifts),
        caars=tuple(float(c) for c in caars),
    )
