"""The cross-section of many events at once: every event's tests as segmented reductions over its columns.

A batch's pairs are grouped by event, so an event is a contiguous run of columns and every per-event sum is one
``np.add.reduceat`` over the column axis. The dependence summaries (r̄, the portfolio σ, the rank test's S_U) take
the fast path when an event's residuals already sit on common dates with no gaps (one calendar, one day 0, no
halt in the estimation window); any other event goes through ``CrossSection.build``, which re-lays its residuals
on calendar dates and handles gaps pair by pair. Both paths compute the same formulas (§1.5).

Daily AARs follow the end-day convention: a trade-to-trade return spanning k sessions counts wholly on the session
it ends, and a return that ends after the window's last day (a halt running over it) counts on that last day.
``aar`` is the day's share of the CAAR (its ARs summed over the N securities of the CAAR), so the AARs add up to
the CAAR exactly; the day's t and BMP t are over the n securities with a return ending that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from monitor.study.inputs import BoolArray, DateArray, FloatArray, IntArray
from monitor.study.statistics import by_date, mean_pairwise_correlation, nanmean_rows, rank_scores


def segment_sum(values: FloatArray, starts: IntArray) -> FloatArray:
    """Sums over each event's columns (the last axis); every segment is non-empty."""
    out: FloatArray = np.add.reduceat(values, starts, axis=-1)
    return out


def spread(per_event: npt.NDArray[Any], counts: IntArray) -> npt.NDArray[Any]:
    """Each event's value repeated over its columns (the inverse of ``segment_sum``'s grouping)."""
    out: npt.NDArray[Any] = np.repeat(per_event, counts, axis=-1)
    return out


@dataclass(frozen=True)
class Dependence:
    """Per-event (E,) summaries of the estimation residuals, and the event rows' mean ranks (T_evt, E)."""

    rbar: FloatArray
    portfolio_sd: FloatArray
    portfolio_df: IntArray
    rank_mean: FloatArray
    rank_scale: FloatArray
    positive_share: FloatArray  # (P,)


def dependence(
    scaled: FloatArray,
    scores: FloatArray,
    residuals: FloatArray,
    used: BoolArray,
    dates: DateArray,
    starts: IntArray,
    counts: IntArray,
) -> Dependence:
    """r̄, portfolio σ and rank summaries for every event of a batch (``used``: the columns in each CAAR)."""
    finite = np.isfinite(scaled) & used[None, :]
    full = finite.all(axis=0) & used
    stamps = dates.astype("datetime64[D]").view(np.int64)
    anchor = spread(starts, counts)  # each column's event's first column
    aligned = ((stamps == stamps[:, anchor]) | ~finite).all(axis=0) & np.isfinite(scaled[:, anchor]).all(axis=0)
    gaps = segment_sum((used & ~full).astype(np.float64), starts) > 0
    odd = segment_sum((used & ~aligned).astype(np.float64), starts) > 0
    fast = ~gaps & ~odd

    # r̄ from the identity Σ_{i≠j} ρ_ij = ‖Σ_i u_i‖² − m over standardised full columns.
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(full[None, :], scaled, 0.0)
        centred = np.where(full[None, :], x - x.mean(axis=0), 0.0)
        scale = np.sqrt((centred * centred).sum(axis=0))
        keep = full & (scale > 0)
        u = np.where(keep[None, :], centred / np.where(keep, scale, 1.0), 0.0)
    summed = segment_sum(u, starts)
    m = segment_sum(keep.astype(np.float64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar = np.where(m >= 2, ((summed * summed).sum(axis=0) - m) / (m * (m - 1)), np.nan)

    # Portfolio: the mean residual per row over the event's columns, its sd over rows.
    values = np.where(finite, scaled, 0.0)
    n_row = segment_sum(finite.astype(np.float64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_row = np.where(n_row > 0, segment_sum(values, starts) / n_row, np.nan)
    rows_in = np.isfinite(mean_row).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.nansum(mean_row, axis=0) / rows_in
        sd = np.sqrt(np.nansum((mean_row - centre) ** 2, axis=0) / (rows_in - 1))
    sd = np.where(rows_in >= 2, sd, np.nan)

    # Rank summaries: ranks per column over its own pooled estimation and event values.
    u_est, u_evt = rank_scores(scaled, scores, used)
    mean_est = _segment_mean(u_est, starts)
    mean_evt = _segment_mean(u_evt, starts)
    pooled = np.vstack([mean_est, mean_evt])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale_u = np.sqrt(np.nansum(pooled * pooled, axis=0) / np.isfinite(pooled).sum(axis=0))
    counts_r = np.isfinite(residuals).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (residuals > 0).sum(axis=0) / counts_r

    out = Dependence(
        rbar=rbar,
        portfolio_sd=sd,
        portfolio_df=np.maximum(rows_in - 1, 0).astype(np.int64),
        rank_mean=mean_evt,
        rank_scale=scale_u,
        positive_share=share,
    )
    for e in np.flatnonzero(~fast).tolist():  # events on several calendars or with gaps: the general path
        cols = slice(int(starts[e]), int(starts[e] + counts[e]))
        pick = np.flatnonzero(used[cols]) + cols.start
        if not len(pick):
            continue
        on_dates = by_date(scaled[:, pick], dates[:, pick])
        rbar_e = mean_pairwise_correlation(on_dates)
        out.rbar[e] = np.nan if rbar_e is None else rbar_e
        portfolio = nanmean_rows(on_dates)
        portfolio = portfolio[np.isfinite(portfolio)]
        out.portfolio_sd[e] = float(np.std(portfolio, ddof=1)) if len(portfolio) >= 2 else np.nan
        out.portfolio_df[e] = max(len(portfolio) - 1, 0)
        ranks = nanmean_rows(by_date(u_est[:, pick], dates[:, pick]))
        pooled_e = np.concatenate([ranks, mean_evt[:, e]])
        pooled_e = pooled_e[np.isfinite(pooled_e)]
        out.rank_scale[e] = float(np.sqrt(np.mean(pooled_e * pooled_e))) if len(pooled_e) else np.nan
    return out


def _segment_mean(values: FloatArray, starts: IntArray) -> FloatArray:
    finite = np.isfinite(values)
    n = segment_sum(finite.astype(np.float64), starts)
    total = segment_sum(np.where(finite, values, 0.0), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(n > 0, total / n, np.nan)
    return out


@dataclass(frozen=True)
class Tests:
    """(W, E) statistics of every window of every event; NaN where a statistic is undefined."""

    n: IntArray
    caar: FloatArray
    sessions: FloatArray
    cross_sectional_t: FloatArray
    patell_z: FloatArray
    bmp_t: FloatArray
    kp_bmp_t: FloatArray
    kp_factor: FloatArray
    portfolio_t: FloatArray
    rank_z: FloatArray
    generalized_sign_z: FloatArray
    rank_z_day0: FloatArray  # (E,)


def window_tests(
    car: FloatArray,
    variance: FloatArray,
    sessions: FloatArray,
    df: IntArray,
    used: BoolArray,
    dep: Dependence,
    rank_rows: list[slice],
    day0_row: int,
    starts: IntArray,
) -> Tests:
    """Every §1.5 statistic for W windows × E events: ``car``/``variance``/``sessions``/``used`` are (W, P)."""
    n = segment_sum(used.astype(np.float64), starts)
    dfs = df.astype(np.float64)[None, :]
    counts = np.diff(np.append(starts, car.shape[-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        caar = segment_sum(np.where(used, car, 0.0), starts) / n
        dev = np.where(used, car - spread(caar, counts), 0.0)
        sd = np.sqrt(segment_sum(dev * dev, starts) / (n - 1))
        cs = caar / (sd / np.sqrt(n))
        scar = np.where(used, car / np.sqrt(variance), 0.0)
        smean = segment_sum(scar, starts) / n
        sdev = np.where(used, scar - spread(smean, counts), 0.0)
        ssd = np.sqrt(segment_sum(sdev * sdev, starts) / (n - 1))
        bmp = smean / (ssd / np.sqrt(n))
        patell_ok = segment_sum((used & (dfs <= 2)).astype(np.float64), starts) == 0
        patell = segment_sum(scar, starts) / np.sqrt(segment_sum(np.where(used, dfs / (dfs - 2.0), 0.0), starts))
        length = segment_sum(np.where(used, sessions, 0.0), starts) / n
        p_hat = segment_sum(np.where(used, dep.positive_share[None, :], 0.0), starts) / n
        wins = segment_sum((used & (car > 0)).astype(np.float64), starts)
        sign = (wins - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat))
        r = dep.rbar[None, :]
        ok_kp = np.isfinite(r) & (n >= 2) & (r < 1) & (1 + (n - 1) * r > 0)
        kp_factor = np.where(ok_kp, np.sqrt((1 - r) / (1 + (n - 1) * r)), np.nan)
        portfolio = caar / (dep.portfolio_sd[None, :] * np.sqrt(length))
        portfolio = np.where((length > 0) & (dep.portfolio_sd[None, :] > 0), portfolio, np.nan)
        cum = np.vstack([np.zeros((1, dep.rank_mean.shape[1])), np.nancumsum(dep.rank_mean, axis=0)])
        has = np.vstack([np.zeros((1, dep.rank_mean.shape[1])), np.cumsum(np.isfinite(dep.rank_mean), axis=0)])
        rank = np.stack(
            [(cum[s.stop] - cum[s.start]) / (np.sqrt(has[s.stop] - has[s.start]) * dep.rank_scale) for s in rank_rows]
        )
        rank = np.where(np.isfinite(rank) & (dep.rank_scale > 0)[None, :], rank, np.nan)
        rank_day0 = dep.rank_mean[day0_row] / dep.rank_scale
    several = n >= 2
    return Tests(
        n=n.astype(np.int64),
        caar=np.where(n > 0, caar, np.nan),
        sessions=np.where(n > 0, length, np.nan),
        cross_sectional_t=np.where(several, cs, np.nan),
        patell_z=np.where(patell_ok & (n > 0), patell, np.nan),
        bmp_t=np.where(several, bmp, np.nan),
        kp_bmp_t=np.where(several, bmp * kp_factor, np.nan),
        kp_factor=kp_factor,
        portfolio_t=np.where(n > 0, portfolio, np.nan),
        rank_z=np.where(n > 0, rank, np.nan),
        generalized_sign_z=np.where((n > 0) & (p_hat > 0) & (p_hat < 1), sign, np.nan),
        rank_z_day0=np.where(np.isfinite(rank_day0) & (dep.rank_scale > 0), rank_day0, np.nan),
    )


@dataclass(frozen=True)
class DailyAar:
    """(T_days, E) daily AAR under the end-day convention (see the module docstring)."""

    aar: FloatArray
    n: IntArray
    t: FloatArray
    bmp_t: FloatArray


def daily_aar(ar: FloatArray, variance: FloatArray, mask: BoolArray, used: BoolArray, last_row: int,
              starts: IntArray) -> DailyAar:  # fmt: skip
    """``ar``/``variance``/``mask`` are the event rows (T, P) from the window's first day; rows after ``last_row``
    (a halt's extension) fold onto it."""
    counts = np.diff(np.append(starts, ar.shape[1]))
    inside = mask & used[None, :] & np.isfinite(ar)
    values = np.where(inside, ar, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        standard = np.where(inside, ar / np.sqrt(variance), np.nan)
    head, tail = values[: last_row + 1].copy(), values[last_row + 1 :]
    shead, stail = standard[: last_row + 1].copy(), standard[last_row + 1 :]
    if len(tail):
        late = np.isfinite(tail).any(axis=0)
        head[last_row] = np.where(late, np.nansum(tail, axis=0), head[last_row])
        shead[last_row] = np.where(late, np.nansum(stail, axis=0), shead[last_row])
    has = np.isfinite(head)
    n = segment_sum(has.astype(np.float64), starts)
    total_n = segment_sum(used.astype(np.float64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = segment_sum(np.where(has, head, 0.0), starts)
        mean = total / n
        dev = np.where(has, head - spread(mean, counts), 0.0)
        t = mean / (np.sqrt(segment_sum(dev * dev, starts) / (n - 1)) / np.sqrt(n))
        smean = segment_sum(np.where(has, shead, 0.0), starts) / n
        sdev = np.where(has, shead - spread(smean, counts), 0.0)
        bmp = smean / (np.sqrt(segment_sum(sdev * sdev, starts) / (n - 1)) / np.sqrt(n))
        aar = total / total_n[None, :]
    return DailyAar(
        aar=np.where(n > 0, aar, np.nan),
        n=n.astype(np.int64),
        t=np.where(n >= 2, t, np.nan),
        bmp_t=np.where(n >= 2, bmp, np.nan),
    )


def p_normal(z: FloatArray) -> FloatArray:
    out: FloatArray = special.erfc(np.abs(z) / np.sqrt(2.0))
    return out


def p_t(t: FloatArray, df: FloatArray | IntArray) -> FloatArray:
    out: FloatArray = 2.0 * special.stdtr(np.maximum(df, 1), -np.abs(t))
    return out
