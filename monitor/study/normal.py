"""Normal-return models fitted for every security at once, and the exact variances that follow from them.

Each observation is a trade-to-trade return spanning ``k`` sessions, modelled as ``R = k·α + β·B + e`` with
``Var(e) = k·σ²`` (Maynes–Rumsey). Weighted least squares with weights ``1/k`` is then exact, and it reduces to
plain OLS when every ``k`` is 1, so the textbook formulas of §1.2–1.4 are the special case, not an approximation.
``B`` is the benchmark's summed session returns over the observation's sessions for the market model (§1.6) and its
compounded return for the market-adjusted model.

* ``β = Σ(B−kB̄)(R−kR̄)/k / S_mm`` with ``S_mm = Σ(B−kB̄)²/k``, ``R̄ = ΣR/Σk``, ``B̄ = ΣB/Σk``, ``α = R̄ − βB̄``;
* ``s² = Σ ẽ²/k / (n − ddof)`` (unbiased, ``SSR/(L1−k)``);
* for any set ``J`` of event-window observations with ``G_k = Σ_J k`` and ``G_B = Σ_J B``, the exact variance of
  their summed abnormal returns is ``s²·[G_k + G_k²/Σk + (G_B − G_k·B̄)²/S_mm]`` (market model),
  ``s²·[G_k + G_k²/Σk]`` (constant mean) or ``s²·G_k`` (market-adjusted). One observation is the daily variance
  with the prediction-error term; a window is ``γ'Vγ`` with the cross-day covariance included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.study.inputs import BoolArray, FloatArray, IntArray
from monitor.study.params import DDOF, Model


@dataclass(frozen=True)
class Fit:
    """Per-security (N,) parameters of the normal-return model over the estimation window."""

    model: Model
    n: IntArray  # valid estimation returns (L1 in the formulas when none spans a halt)
    sessions: FloatArray  # Σk over the estimation returns
    alpha: FloatArray  # per-session intercept; the mean for constant-mean; 0 for market-adjusted
    beta: FloatArray  # 1 for market-adjusted, 0 for constant-mean
    s2: FloatArray  # residual variance per session
    df: IntArray  # n − ddof
    bbar: FloatArray  # per-session benchmark mean over the estimation window
    smm: FloatArray  # Σ(B − k·B̄)²/k
    residuals: FloatArray  # (rows, N) estimation abnormal returns e (NaN where no return)

    def expected(self, span: FloatArray, bench: FloatArray) -> FloatArray:
        """Normal return of an observation spanning ``span`` sessions with compounded benchmark ``bench``."""
        if self.model == "market-adjusted":
            return bench
        if self.model == "constant-mean":
            return self.alpha * span
        return self.alpha * span + self.beta * bench

    def sum_variance(self, g_k: FloatArray, g_b: FloatArray) -> FloatArray:
        """Exact variance of a sum of abnormal returns covering ``g_k`` sessions and benchmark sum ``g_b``."""
        if self.model == "market-adjusted":
            return self.s2 * g_k
        factor = g_k + g_k * g_k / self.sessions
        if self.model == "market":
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = factor + (g_b - g_k * self.bbar) ** 2 / self.smm
        return self.s2 * factor

    def problems(self, min_estimation: int, first: int, last: int) -> list[str | None]:
        """Why each security cannot be studied (None: it can)."""
        out: list[str | None] = []
        for n, s2, smm in zip(self.n.tolist(), self.s2.tolist(), self.smm.tolist(), strict=True):
            if n < min_estimation:
                out.append(f"only {n} valid returns in the estimation window [{first},{last}]; {min_estimation} needed")
            elif self.model == "market" and not smm > 0:
                out.append("the benchmark did not move over the estimation window; beta cannot be estimated")
            elif not (np.isfinite(s2) and s2 > 0):
                out.append("zero residual variance over the estimation window")
            else:
                out.append(None)
        return out


def fit(model: Model, ret: FloatArray, bench: FloatArray, span: FloatArray, valid: BoolArray) -> Fit:
    """Estimate the model for every column of the (rows, N) estimation-window arrays in one pass.

    When no return spans more than one session (no halt in any column's estimation window, the usual case) every
    weight 1/k and factor k is 1; multiplying by 1 is exact, so those passes are skipped with the same numbers."""
    count = ret.shape[1]
    n = valid.sum(axis=0).astype(np.int64)
    unit = float(span.max(initial=0.0)) <= 1.0
    r = np.where(valid, ret, 0.0)
    b = np.where(valid, bench, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if unit:
            sessions = n.astype(np.float64)  # Σk of ones, exact
            inv_k = None
        else:
            sessions = np.where(valid, span, 0.0).sum(axis=0)
            inv_k = np.where(valid, 1.0 / span, 0.0)

        def per_k(x: FloatArray) -> FloatArray:
            return x if inv_k is None else x * inv_k

        def k_times(x: FloatArray) -> FloatArray:
            return x if unit else span * x

        rbar = r.sum(axis=0) / sessions
        bbar = b.sum(axis=0) / sessions
        bc = np.where(valid, bench - k_times(bbar), 0.0)
        smm = per_k(bc * bc).sum(axis=0)
        if model == "market":
            rc = np.where(valid, ret - k_times(rbar), 0.0)
            beta = per_k(bc * rc).sum(axis=0) / smm
            alpha = rbar - beta * bbar
            residuals = np.where(valid, ret - k_times(alpha) - beta * bench, np.nan)
            centred = residuals
        elif model == "constant-mean":
            alpha, beta = rbar, np.zeros(count)
            residuals = np.where(valid, ret - k_times(alpha), np.nan)
            centred = residuals
        else:  # market-adjusted: nothing estimated, but s² demeans with ddof 1 as the methods note prescribes
            alpha, beta = np.zeros(count), np.ones(count)
            residuals = np.where(valid, ret - bench, np.nan)
            dbar = np.where(valid, residuals, 0.0).sum(axis=0) / sessions
            centred = np.where(valid, residuals - k_times(dbar), np.nan)
        df = n - DDOF[model]
        ssr = np.where(valid, per_k(centred * centred), 0.0).sum(axis=0)
        s2 = np.where(df > 0, ssr / np.maximum(df, 1), np.nan)
    return Fit(model, n, sessions, alpha, beta, s2, df, bbar, smm, residuals)
