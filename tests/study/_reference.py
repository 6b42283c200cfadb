"""Independent computations of the methods note's formulas, written from the text and not from the engine.

They are deliberately naive: explicit design matrices, ``np.linalg`` solves, full covariance matrices and loops over
securities, so a shared mistake with the vectorised engine is unlikely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


def sketch(R: np.ndarray, rm: np.ndarray, e: int, w: tuple[int, int], gap: int, L1: int) -> dict[str, object]:
    """The §1.5 reference sketch, line for line (market model, one shared date, complete panel)."""
    N = R.shape[1]
    w0, w1 = w
    est = slice(e + w0 - gap - L1, e + w0 - gap)
    evt = slice(e + w0, e + w1 + 1)
    me = rm[est]
    mbar = me.mean()
    Smm = ((me - mbar) ** 2).sum()
    beta = ((me - mbar)[:, None] * (R[est] - R[est].mean(0))).sum(0) / Smm
    alpha = R[est].mean(0) - beta * mbar
    resid = R[est] - alpha - np.outer(me, beta)
    s2 = (resid**2).sum(0) / (L1 - 2)
    AR = R[evt] - alpha - np.outer(rm[evt], beta)
    L = AR.shape[0]
    varAR = s2 * (1 + 1 / L1 + ((rm[evt] - mbar) ** 2 / Smm)[:, None])
    SAR = AR / np.sqrt(varAR)
    CAR = AR.sum(0)
    varCAR = s2 * (L + L**2 / L1 + ((rm[evt] - mbar).sum()) ** 2 / Smm)
    SCAR = CAR / np.sqrt(varCAR)
    t_cs = CAR.mean() / (CAR.std(ddof=1) / np.sqrt(N))
    J1 = CAR.mean() / np.sqrt(varCAR.sum() / N**2)
    patZ = SCAR.sum() / np.sqrt(N * (L1 - 2) / (L1 - 4))
    t_bmp = SCAR.mean() / (SCAR.std(ddof=1) / np.sqrt(N))
    C = np.corrcoef(resid.T)
    rbar = (C.sum() - N) / (N * (N - 1))
    t_kp = t_bmp * np.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
    t_bw = CAR.mean() / (resid.mean(1).std(ddof=1) * np.sqrt(L))
    U = rankdata(np.vstack([resid, AR]), axis=0) / (L1 + L + 1) - 0.5
    Ub = U.mean(1)
    SU = np.sqrt((Ub**2).mean())
    rank_car = Ub[L1:].sum() / (np.sqrt(L) * SU)
    rank_day0 = Ub[L1 - w0] / SU
    p = (resid > 0).mean()
    gsign = ((CAR > 0).sum() - N * p) / np.sqrt(N * p * (1 - p))
    return {
        "alpha": alpha,
        "beta": beta,
        "s2": s2,
        "resid": resid,
        "AR": AR,
        "varAR": varAR,
        "SAR": SAR,
        "CAR": CAR,
        "varCAR": varCAR,
        "t_cs": t_cs,
        "J1": J1,
        "patell": patZ,
        "bmp": t_bmp,
        "rbar": rbar,
        "kp": t_kp,
        "bw": t_bw,
        "rank": rank_car,
        "rank_day0": rank_day0,
        "gsign": gsign,
    }


@dataclass
class GlsFit:
    theta: np.ndarray  # (alpha, beta) or (mu,)
    s2: float
    xtwx_inv: np.ndarray
    n: int


def gls(R: np.ndarray, X: np.ndarray, k: np.ndarray) -> GlsFit:
    """Weighted least squares with Var(e_j) = k_j σ² using explicit matrices (the Maynes–Rumsey model)."""
    W = np.diag(1.0 / k)
    xtwx_inv = np.linalg.inv(X.T @ W @ X)
    theta = xtwx_inv @ X.T @ W @ R
    e = R - X @ theta
    s2 = float(e @ W @ e) / (len(R) - X.shape[1])
    return GlsFit(theta, s2, xtwx_inv, len(R))


def window_covariance(fit: GlsFit, Xstar: np.ndarray, kstar: np.ndarray) -> np.ndarray:
    """V = s² [diag(k*) + X*(X'WX)⁻¹X*'] — the full event-window covariance of §1.4 (k* = 1: the textbook V)."""
    return fit.s2 * (np.diag(kstar) + Xstar @ fit.xtwx_inv @ Xstar.T)


def pairwise_mean_correlation(E: np.ndarray, min_periods: int = 3) -> float:
    """Mean off-diagonal pairwise-complete Pearson correlation, pair by pair."""
    N = E.shape[1]
    values = []
    for i in range(N):
        for j in range(N):
            if i == j:
                continue
            both = np.isfinite(E[:, i]) & np.isfinite(E[:, j])
            if both.sum() < min_periods:
                continue
            r = np.corrcoef(E[both, i], E[both, j])[0, 1]
            if np.isfinite(r):
                values.append(r)
    return float(np.mean(values))
