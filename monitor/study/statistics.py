"""Cross-sectional tests of H0: CAAR = 0 (§1.5), written once for any window and vectorised over securities.

Dependence-robust statistics need the estimation-window residuals of the whole cross-section; they are summarised
once per event in ``CrossSection`` (mean pairwise residual correlation, the portfolio residual standard deviation,
the rank time series and the generalized-sign base rate) and reused by every window. Estimation residuals that span
``k`` sessions are scaled by ``1/√k`` first so that every row of the time series is on a one-session footing.

Dependence is a property of calendar time: two securities' residuals co-move because they react to the same news
on the same date. So every cross-sectional dependence estimate (r̄, the portfolio σ, the rank test's S_U) pairs
residuals by calendar date (``by_date``), never by their rows relative to each security's own day 0: a US and a
Shenzhen stock's event-time rows can be two weeks apart in calendar time after Golden Week. When every security
shares one calendar and one day 0 (the rows are the same dates) the re-laying is the identity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from monitor.study.inputs import BoolArray, DateArray, FloatArray, IntArray
from monitor.study.results import Statistic, WindowTests, clean

MIN_OVERLAP = 3  # fewest common observations for a pairwise residual correlation to count
MAX_GROUPS = 16  # distinct gap patterns up to which r̄ is summed group by group


def two_sided_t(value: float, df: int) -> float:
    """P(|T| ≥ |value|) for Student's t with ``df`` degrees of freedom (the ufunc, ~100x cheaper than stats.t)."""
    return float(2.0 * special.stdtr(df, -abs(value)))


def normal_statistic(value: float | None) -> Statistic:
    value = clean(value)
    if value is None:
        return Statistic(None, None)
    return Statistic(value, float(special.erfc(abs(value) / math.sqrt(2.0))))


def t_statistic(value: float | None, df: int) -> Statistic:
    value = clean(value)
    if value is None or df < 1:
        return Statistic(None, None, df if df >= 1 else None)
    return Statistic(value, two_sided_t(value, df), df)


def _ratio(numerator: float, denominator: float) -> float | None:
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator <= 0:
        return None
    return numerator / denominator


def mean_pairwise_correlation(residuals: FloatArray) -> float | None:
    """Mean of the N(N−1)/2 pairwise Pearson correlations (diagonal excluded), pairwise-complete over NaN.

    Columns with the same pattern of gaps (one calendar, no halt; or the same holidays) share their overlap with
    any other group, so the sum of a group pair's correlations is the dot product of their standardised column sums
    over that overlap: O(groups² · rows · N) instead of a correlation matrix. Many distinct gap patterns (scattered
    halts) fall back to pairwise matrix products.
    """
    x = residuals
    count = x.shape[1]
    if count < 2:
        return None
    finite = np.isfinite(x)
    packed = np.ascontiguousarray(np.packbits(finite, axis=0).T)  # one row of bytes per column's gap pattern
    patterns, group = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_inverse=True)
    group = group.reshape(-1)
    if len(patterns) > MAX_GROUPS:
        return _pairwise_products(x, finite)
    members = [np.flatnonzero(group == g) for g in range(len(patterns))]
    total, pairs = 0.0, 0
    for g, cols_g in enumerate(members):
        for h in range(g, len(members)):
            cols_h = members[h]
            overlap = finite[:, cols_g[0]] & finite[:, cols_h[0]]
            if overlap.sum() < MIN_OVERLAP:
                continue
            sum_g, m_g = _standardised_sum(x[overlap][:, cols_g])
            if g == h:
                total += float(sum_g @ sum_g) - m_g
                pairs += m_g * (m_g - 1)
            else:
                sum_h, m_h = _standardised_sum(x[overlap][:, cols_h])
                total += 2.0 * float(sum_g @ sum_h)
                pairs += 2 * m_g * m_h
    return total / pairs if pairs else None


def _standardised_sum(z: FloatArray) -> tuple[FloatArray, int]:
    """Σ of the columns centred and scaled to unit norm (columns with no variation dropped), and how many."""
    centred = z - z.mean(axis=0)
    scale = np.sqrt((centred * centred).sum(axis=0))
    keep = scale > 0
    out: FloatArray = (centred[:, keep] / scale[keep]).sum(axis=1)
    return out, int(keep.sum())


def _pairwise_products(x: FloatArray, finite: BoolArray) -> float | None:
    """Pairwise-complete correlations from masked cross-products (for many distinct gap patterns)."""
    mask = finite.astype(np.float64)
    filled = np.where(finite, x, 0.0)
    n = mask.T @ mask
    sx = filled.T @ mask  # Σ x_i over rows where i and j are both present
    sy = mask.T @ filled
    sxx = (filled * filled).T @ mask
    syy = mask.T @ (filled * filled)
    sxy = filled.T @ filled
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        corr = cov / np.sqrt(vx * vy)
    usable: BoolArray = np.asarray((n >= MIN_OVERLAP) & np.isfinite(corr), dtype=bool)
    np.fill_diagonal(usable, False)
    pairs = int(usable.sum())
    return float(np.where(usable, corr, 0.0).sum()) / pairs if pairs else None


def column_ranks(values: FloatArray) -> FloatArray:
    """Average ranks (1-based, ties averaged) down each column, NaN left as NaN: scipy's ``rankdata(axis=0,
    nan_policy="omit")`` computed on contiguous rows, which is several times faster for our panel shapes."""
    rows = np.ascontiguousarray(values.T)
    finite = np.isfinite(rows)
    out: FloatArray = np.where(finite, row_ranks(rows, finite), np.nan).T
    return out


def row_ranks(rows: FloatArray, finite: BoolArray) -> FloatArray:
    """Average ranks along each row of a C-contiguous array, over its ``finite`` cells (the others' values are
    meaningless).

    Residuals of continuous returns almost never tie, so a row whose sorted finite values are all distinct takes
    its ranks straight from the sort order (one scatter); only rows with a tie run the averaging passes."""
    order = np.argsort(np.where(finite, rows, np.inf), axis=1)  # tie order is irrelevant: ties share one rank
    count, width = rows.shape
    flat = order + (np.arange(count, dtype=np.int64) * width)[:, None]  # flat takes: faster than *_along_axis
    ordered = rows.reshape(-1)[flat]
    tied = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)  # NaN never equals; a finite value never equals ±inf
    ranks = np.empty(rows.shape)
    ranks.reshape(-1)[flat] = np.arange(1.0, width + 1.0)
    if tied.any():
        pick = np.flatnonzero(tied)
        ranks[pick] = _tied_ranks(ordered[pick], order[pick])
    return ranks


def _tied_ranks(ordered: FloatArray, order: IntArray) -> FloatArray:
    """Average ranks of rows whose sorted values (``ordered``, sorted by ``order``) hold runs of equal values."""
    count, width = ordered.shape
    position = np.broadcast_to(np.arange(width), ordered.shape)
    differs = ordered[:, 1:] != ordered[:, :-1]
    starts_run = np.concatenate([np.ones((count, 1), bool), differs], axis=1)
    ends_run = np.concatenate([differs, np.ones((count, 1), bool)], axis=1)
    first = np.maximum.accumulate(np.where(starts_run, position, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends_run, position, width)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(ordered.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    return ranks


def rank_scores(
    estimation: FloatArray, event: FloatArray, used: BoolArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Corrado U = rank/(M_i+1) − 0.5 over each security's pooled estimation residuals and event ARs (NaN where a
    value is missing, and in every column ``used`` leaves out). The pooled values are laid out one security per
    row, so ranking, counting and scaling all run along contiguous memory."""
    est_rows = len(estimation)
    rows = np.empty((estimation.shape[1], est_rows + len(event)))
    rows[:, :est_rows] = estimation.T
    rows[:, est_rows:] = event.T
    if used is not None:
        rows[~used] = np.nan
    finite = np.isfinite(rows)
    m = finite.sum(axis=1)
    with np.errstate(invalid="ignore"):
        u = np.where(finite, row_ranks(rows, finite) / (m[:, None] + 1.0) - 0.5, np.nan).T
    return u[:est_rows], u[est_rows:]


@dataclass(frozen=True)
class CrossSection:
    """Per-event summaries of the estimation-window residuals that every window's tests reuse."""

    rbar: float | None  # mean pairwise residual correlation (Kolari–Pynnönen)
    portfolio_sd: float | None  # sd over estimation days of the mean residual (Brown–Warner crude dependence)
    portfolio_df: int
    rank_mean: FloatArray  # Ū per event row (NaN where no security has a value)
    rank_scale: float | None  # S_U over estimation and event rows
    positive_share: FloatArray  # (N,) share of positive estimation residuals per security

    @classmethod
    def build(
        cls,
        scaled_residuals: FloatArray,
        event_scores: FloatArray,
        residuals: FloatArray,
        used: BoolArray,
        dates: DateArray | None = None,
    ) -> CrossSection:
        """``dates`` (rows × N) are the sessions the estimation residuals end on; ``None`` means one shared
        calendar and day 0 (rows are dates)."""
        est = scaled_residuals[:, used]
        on_dates = est if dates is None else by_date(est, dates[:, used])
        rbar = mean_pairwise_correlation(on_dates)
        portfolio = nanmean_rows(on_dates)
        portfolio = portfolio[np.isfinite(portfolio)]
        sd = float(np.std(portfolio, ddof=1)) if len(portfolio) >= 2 else float("nan")
        u_est, u_evt = rank_scores(est, event_scores[:, used])
        if dates is not None:
            u_est = by_date(u_est, dates[:, used])
        with np.errstate(invalid="ignore"):
            mean_est = nanmean_rows(u_est)
            mean_evt = nanmean_rows(u_evt)
        pooled = np.concatenate([mean_est, mean_evt])
        pooled = pooled[np.isfinite(pooled)]
        scale = float(np.sqrt(np.mean(pooled * pooled))) if len(pooled) else float("nan")
        counts = np.isfinite(residuals).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (residuals > 0).sum(axis=0) / counts
        return cls(
            rbar=rbar,
            portfolio_sd=clean(sd),
            portfolio_df=max(len(portfolio) - 1, 0),
            rank_mean=mean_evt,
            rank_scale=clean(scale) if scale > 0 else None,
            positive_share=share,
        )

    def rank_z(self, rows: slice) -> Statistic:
        """Campbell–Wasley multi-day rank Z over the event rows ``rows`` (rows with no value are skipped)."""
        values = self.rank_mean[rows]
        values = values[np.isfinite(values)]
        if self.rank_scale is None or not len(values):
            return Statistic(None, None)
        return normal_statistic(float(values.sum()) / (math.sqrt(len(values)) * self.rank_scale))


def by_date(values: FloatArray, dates: DateArray) -> FloatArray:
    """Re-lay a (rows × N) event-time matrix on calendar dates: (D × N) over the D distinct dates its finite entries
    fall on, NaN where a security has no value that date. Returns ``values`` itself when every column's rows are
    the same dates (one calendar, one day 0)."""
    finite = np.isfinite(values)
    if values.shape[1] < 2:
        return values
    stamps = dates.astype("datetime64[D]").view(np.int64)
    if bool(((stamps == stamps[:, :1]) | ~finite).all()):  # each row already holds a single date
        return values
    rows, columns = np.nonzero(finite)
    if not len(rows):
        return np.full((0, values.shape[1]), np.nan)
    days = stamps[rows, columns]
    low = int(days.min())
    seen = np.zeros(int(days.max()) - low + 1, dtype=bool)  # day numbers span a year or two: a lookup, no sort
    seen[days - low] = True
    slot = np.cumsum(seen) - 1
    out = np.full((int(seen.sum()), values.shape[1]), np.nan)
    out[slot[days - low], columns] = values[rows, columns]
    return out


def nanmean_rows(values: FloatArray) -> FloatArray:
    counts = np.isfinite(values).sum(axis=1)
    sums = np.where(np.isfinite(values), values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def window_tests(
    window: tuple[int, int],
    car: FloatArray,
    variance: FloatArray,
    sessions: FloatArray,
    df: IntArray,
    used: BoolArray,
    cross: CrossSection,
    rank_rows: slice,
) -> WindowTests:
    """Every §1.5 statistic for one window, over the securities flagged in ``used``."""
    return windows_tests([window], car[None], variance[None], sessions[None], df, used[None], cross, [rank_rows])[0]


def windows_tests(
    windows: list[tuple[int, int]],
    car: FloatArray,
    variance: FloatArray,
    sessions: FloatArray,
    df: IntArray,
    used: BoolArray,
    cross: CrossSection,
    rank_rows: list[slice],
) -> list[WindowTests]:
    """Every §1.5 statistic for several windows at once: (W, N) arrays, ``used`` flags each window's securities."""
    n = used.sum(axis=1)
    dfs = df.astype(np.float64)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cars = np.where(used, car, 0.0)
        caar = cars.sum(axis=1) / n
        sd = np.sqrt((np.where(used, car - caar[:, None], 0.0) ** 2).sum(axis=1) / (n - 1))
        cs = caar / (sd / np.sqrt(n))
        scar = np.where(used, car / np.sqrt(variance), 0.0)
        smean = scar.sum(axis=1) / n
        ssd = np.sqrt((np.where(used, scar - smean[:, None], 0.0) ** 2).sum(axis=1) / (n - 1))
        bmp = smean / (ssd / np.sqrt(n))
        patell_ok: BoolArray = np.asarray(~(used & (dfs <= 2)).any(axis=1), dtype=bool)
        patell = scar.sum(axis=1) / np.sqrt(np.where(used, dfs / (dfs - 2.0), 0.0).sum(axis=1))
        length = np.where(used, sessions, 0.0).sum(axis=1) / n
        p_hat = np.where(used, cross.positive_share[None, :], 0.0).sum(axis=1) / n
        wins = (used & (car > 0)).sum(axis=1)
        sign = (wins - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat))
    out: list[WindowTests] = []
    for w, window in enumerate(windows):
        count = int(n[w])
        if count == 0:
            out.append(WindowTests(window=window, n=0, caar=None, sessions=None))
            continue
        several = count >= 2
        rbar = cross.rbar
        kp_factor = None
        if rbar is not None and several and rbar < 1 and 1 + (count - 1) * rbar > 0:
            kp_factor = math.sqrt((1 - rbar) / (1 + (count - 1) * rbar))
        bmp_w = float(bmp[w]) if several else None
        portfolio = None
        if cross.portfolio_sd is not None and length[w] > 0:
            portfolio = _ratio(float(caar[w]), cross.portfolio_sd * math.sqrt(float(length[w])))
        out.append(
            WindowTests(
                window=window,
                n=count,
                caar=clean(float(caar[w])),
                sessions=clean(float(length[w])),
                cross_sectional_t=t_statistic(float(cs[w]) if several else None, count - 1),
                patell_z=normal_statistic(float(patell[w]) if patell_ok[w] else None),
                bmp_t=t_statistic(bmp_w, count - 1),
                kp_bmp_t=t_statistic(bmp_w * kp_factor if bmp_w is not None and kp_factor else None, count - 1),
                portfolio_t=t_statistic(portfolio, cross.portfolio_df),
                rank_z=cross.rank_z(rank_rows[w]),
                generalized_sign_z=normal_statistic(float(sign[w]) if 0 < p_hat[w] < 1 else None),
                mean_residual_correlation=clean(rbar),
                kp_factor=clean(kp_factor),
            )
        )
    return out
