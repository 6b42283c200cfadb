"""Cross-sectional tests of H0: CAAR = 0 (§1.5), written once for any window and vectorised over securities.

Dependence-robust statistics need the estimation-window residuals of the whole cross-section; they are summarised
once per event in ``CrossSection`` (mean pairwise residual correlation, the portfolio residual standard deviation,
the rank time series and the generalized-sign base rate) and reused by every window. Estimation residuals that span
``k`` sessions are scaled by ``1/√k`` first so that every row of the time series is on a one-session footing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import rankdata

from monitor.study.inputs import BoolArray, FloatArray, IntArray
from monitor.study.results import Statistic, WindowTests, clean

MIN_OVERLAP = 3  # fewest common observations for a pairwise residual correlation to count


def normal_statistic(value: float | None) -> Statistic:
    value = clean(value)
    if value is None:
        return Statistic(None, None)
    return Statistic(value, float(2.0 * stats.norm.sf(abs(value))))


def t_statistic(value: float | None, df: int) -> Statistic:
    value = clean(value)
    if value is None or df < 1:
        return Statistic(None, None, df if df >= 1 else None)
    return Statistic(value, float(2.0 * stats.t.sf(abs(value), df)), df)


def _ratio(numerator: float, denominator: float) -> float | None:
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator <= 0:
        return None
    return numerator / denominator


def mean_pairwise_correlation(residuals: FloatArray) -> float | None:
    """Mean of the N(N−1)/2 pairwise Pearson correlations (diagonal excluded), pairwise-complete over NaN.

    Columns without NaN use an O(T·N) identity (the sum of all entries of a correlation matrix is the squared norm
    of the sum of standardised columns); only columns with gaps pay for pairwise matrix products.
    """
    x = residuals
    count = x.shape[1]
    if count < 2:
        return None
    finite = np.isfinite(x)
    full: BoolArray = np.asarray(finite.all(axis=0), dtype=bool)
    total, pairs = 0.0, 0
    if full.sum() >= 2:
        z = x[:, full]
        centred = z - z.mean(axis=0)
        scale = np.sqrt((centred * centred).sum(axis=0))
        u = centred[:, scale > 0] / scale[scale > 0]
        m = u.shape[1]
        summed = u.sum(axis=1)
        total += float(summed @ summed) - m
        pairs += m * (m - 1)
    gappy = np.flatnonzero(~full)
    if len(gappy):
        mask = finite.astype(np.float64)
        filled = np.where(finite, x, 0.0)
        a, am = filled[:, gappy], mask[:, gappy]
        n = am.T @ mask
        sx = a.T @ mask  # Σ x_i over rows where i and j are both present
        sy = am.T @ filled  # Σ x_j over the same rows
        sxx = (a * a).T @ mask
        syy = am.T @ (filled * filled)
        sxy = a.T @ filled
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = sxy - sx * sy / n
            vx = sxx - sx * sx / n
            vy = syy - sy * sy / n
            corr = cov / np.sqrt(vx * vy)
        usable: BoolArray = np.asarray((n >= MIN_OVERLAP) & np.isfinite(corr), dtype=bool)
        usable[np.arange(len(gappy)), gappy] = False  # the diagonal
        # Pairs between a gappy column and a full one are counted in both orders; gappy-gappy pairs too.
        weight = np.where(full[None, :], 2.0, 1.0)
        total += float((np.where(usable, corr, 0.0) * weight).sum())
        pairs += int((usable * weight).sum())
    return total / pairs if pairs else None


def rank_scores(estimation: FloatArray, event: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Corrado U = rank/(M_i+1) − 0.5 over each security's pooled estimation residuals and event ARs."""
    pooled = np.vstack([estimation, event])
    ranks = rankdata(pooled, axis=0, nan_policy="omit")
    m = np.isfinite(pooled).sum(axis=0)
    u = ranks / (m + 1.0) - 0.5
    return u[: len(estimation)], u[len(estimation) :]


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
        cls, scaled_residuals: FloatArray, event_scores: FloatArray, residuals: FloatArray, used: BoolArray
    ) -> CrossSection:
        est = scaled_residuals[:, used]
        rbar = mean_pairwise_correlation(est)
        portfolio = _nanmean_rows(est)
        portfolio = portfolio[np.isfinite(portfolio)]
        sd = float(np.std(portfolio, ddof=1)) if len(portfolio) >= 2 else float("nan")
        u_est, u_evt = rank_scores(est, event_scores[:, used])
        with np.errstate(invalid="ignore"):
            mean_est = _nanmean_rows(u_est)
            mean_evt = _nanmean_rows(u_evt)
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


def _nanmean_rows(values: FloatArray) -> FloatArray:
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
    n = int(used.sum())
    if n == 0:
        return WindowTests(window=window, n=0, caar=None, sessions=None)
    cars = car[used]
    caar = float(cars.mean())
    scar = cars / np.sqrt(variance[used])
    dfs = df[used].astype(np.float64)
    length = float(sessions[used].mean())

    cs = _ratio(caar, float(np.std(cars, ddof=1)) / math.sqrt(n)) if n >= 2 else None
    patell_scale = float(np.sum(dfs / (dfs - 2.0))) if np.all(dfs > 2) else float("nan")
    patell = _ratio(float(scar.sum()), math.sqrt(patell_scale)) if patell_scale > 0 else None
    bmp = _ratio(float(scar.mean()), float(np.std(scar, ddof=1)) / math.sqrt(n)) if n >= 2 else None

    kp_factor = None
    if cross.rbar is not None and n >= 2 and cross.rbar < 1 and 1 + (n - 1) * cross.rbar > 0:
        kp_factor = math.sqrt((1 - cross.rbar) / (1 + (n - 1) * cross.rbar))
    kp = bmp * kp_factor if bmp is not None and kp_factor is not None else None

    portfolio = None
    if cross.portfolio_sd is not None and length > 0:
        portfolio = _ratio(caar, cross.portfolio_sd * math.sqrt(length))

    p_hat = float(np.nanmean(cross.positive_share[used]))
    wins = int((cars > 0).sum())
    sign = _ratio(wins - n * p_hat, math.sqrt(n * p_hat * (1 - p_hat))) if 0 < p_hat < 1 else None

    return WindowTests(
        window=window,
        n=n,
        caar=clean(caar),
        sessions=clean(length),
        cross_sectional_t=t_statistic(cs, n - 1),
        patell_z=normal_statistic(patell),
        bmp_t=t_statistic(bmp, n - 1),
        kp_bmp_t=t_statistic(kp, n - 1),
        portfolio_t=t_statistic(portfolio, cross.portfolio_df),
        rank_z=cross.rank_z(rank_rows),
        generalized_sign_z=normal_statistic(sign),
        mean_residual_correlation=clean(cross.rbar),
        kp_factor=clean(kp_factor),
    )
