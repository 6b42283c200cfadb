"""Cross-sectional statistics against pair-by-pair and formula-by-formula computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import rankdata

from monitor.study.statistics import CrossSection, mean_pairwise_correlation, rank_scores, window_tests
from tests.study._reference import pairwise_mean_correlation


def test_mean_correlation_matches_corrcoef_without_gaps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 9)) + rng.normal(size=(120, 1))
    c = np.corrcoef(x.T)
    assert mean_pairwise_correlation(x) == pytest.approx((c.sum() - 9) / (9 * 8), rel=1e-12)


def test_mean_correlation_is_pairwise_complete_with_gaps():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 7)) + 0.7 * rng.normal(size=(80, 1))
    x[rng.random((80, 7)) < 0.15] = np.nan
    x[:, 2] = rng.normal(size=80)  # one column complete, the rest gappy
    x[:, 5] = rng.normal(size=80)
    x[:78, 6] = np.nan  # too little overlap to count
    assert mean_pairwise_correlation(x) == pytest.approx(pairwise_mean_correlation(x), rel=1e-10)


def test_mean_correlation_needs_two_columns():
    assert mean_pairwise_correlation(np.zeros((10, 1))) is None


def test_rank_scores_rank_each_security_over_its_own_values():
    rng = np.random.default_rng(2)
    est = rng.normal(size=(50, 4))
    evt = rng.normal(size=(6, 4))
    est[3, 1] = np.nan
    evt[2, 3] = np.nan
    u_est, u_evt = rank_scores(est, evt)
    for i in range(4):
        pooled = np.concatenate([est[:, i], evt[:, i]])
        ok = np.isfinite(pooled)
        expected = np.full(len(pooled), np.nan)
        expected[ok] = rankdata(pooled[ok]) / (ok.sum() + 1) - 0.5
        np.testing.assert_allclose(np.concatenate([u_est[:, i], u_evt[:, i]]), expected)


def _cross(rbar: float | None, n: int = 500) -> CrossSection:
    return CrossSection(
        rbar=rbar,
        portfolio_sd=0.01,
        portfolio_df=249,
        rank_mean=np.zeros(3),
        rank_scale=0.2,
        positive_share=np.full(n, 0.5),
    )


@pytest.mark.parametrize(("rbar", "n", "factor"), [(0.016, 500, 0.33), (0.2, 30, 0.34)])
def test_kp_factor_reproduces_the_methods_note(rbar, n, factor):
    rng = np.random.default_rng(3)
    car = rng.normal(-0.01, 0.02, n)
    tests = window_tests(
        (0, 0), car, np.full(n, 0.0004), np.ones(n), np.full(n, 248), np.ones(n, bool), _cross(rbar, n), slice(0, 1)
    )
    assert tests.kp_factor == pytest.approx(factor, abs=0.005)
    assert tests.kp_bmp_t.value == pytest.approx(tests.bmp_t.value * tests.kp_factor)


def test_window_tests_with_unequal_estimation_lengths():
    rng = np.random.default_rng(4)
    n = 12
    car = rng.normal(-0.02, 0.03, n)
    var = rng.uniform(0.0003, 0.001, n)
    df = rng.integers(118, 249, n)
    share = rng.uniform(0.4, 0.6, n)
    used = np.ones(n, bool)
    used[3] = False
    cross = CrossSection(0.05, 0.004, 200, np.array([0.1, -0.05, 0.2]), 0.25, share)
    tests = window_tests((-1, 1), car, var, np.full(n, 3.0), df, used, cross, slice(0, 3))

    c, v, d, p = car[used], var[used], df[used], share[used]
    k = used.sum()
    scar = c / np.sqrt(v)
    assert tests.n == k
    assert tests.caar == pytest.approx(c.mean())
    assert tests.cross_sectional_t.value == pytest.approx(c.mean() / (c.std(ddof=1) / math.sqrt(k)))
    # Patell with per-firm L: Σ SCAR / sqrt(Σ (L1_i − 2)/(L1_i − 4)), here with df_i = L1_i − 2.
    assert tests.patell_z.value == pytest.approx(scar.sum() / math.sqrt(np.sum(d / (d - 2))))
    bmp = scar.mean() / (scar.std(ddof=1) / math.sqrt(k))
    assert tests.bmp_t.value == pytest.approx(bmp)
    assert tests.kp_bmp_t.value == pytest.approx(bmp * math.sqrt(0.95 / (1 + (k - 1) * 0.05)))
    assert tests.portfolio_t.value == pytest.approx(c.mean() / (0.004 * math.sqrt(3)))
    assert tests.portfolio_t.df == 200
    assert tests.rank_z.value == pytest.approx(0.25 / (math.sqrt(3) * 0.25))
    phat = p.mean()
    wins = (c > 0).sum()
    assert tests.generalized_sign_z.value == pytest.approx((wins - k * phat) / math.sqrt(k * phat * (1 - phat)))


def test_a_single_security_has_no_cross_sectional_statistics():
    tests = window_tests(
        (0, 0),
        np.array([-0.05]),
        np.array([0.0004]),
        np.ones(1),
        np.array([248]),
        np.ones(1, bool),
        _cross(None, 1),
        slice(0, 1),
    )
    assert tests.n == 1
    assert tests.caar == pytest.approx(-0.05)
    assert tests.cross_sectional_t.value is None
    assert tests.bmp_t.value is None
    assert tests.kp_bmp_t.value is None
    assert tests.patell_z.value == pytest.approx(-0.05 / 0.02 / math.sqrt(248 / 246))


def test_column_ranks_match_scipy_with_ties_and_gaps():
    from monitor.study.statistics import column_ranks

    rng = np.random.default_rng(9)
    x = rng.integers(0, 6, size=(40, 7)).astype(float)  # many ties
    x[rng.random((40, 7)) < 0.2] = np.nan
    x[:, 3] = np.nan
    np.testing.assert_allclose(column_ranks(x), rankdata(x, axis=0, nan_policy="omit"), equal_nan=True)


def test_column_ranks_mix_columns_with_and_without_ties():
    """Distinct-valued columns take the sort-order shortcut, tied ones the averaging; both must match scipy."""
    from monitor.study.statistics import column_ranks

    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 9))  # continuous: no ties
    x[:, 2] = np.round(x[:, 2], 1)  # ties
    x[rng.random((60, 9)) < 0.15] = np.nan
    x[5, 4], x[6, 4], x[7, 6] = np.inf, -np.inf, np.inf  # not finite: left out like NaN
    x[:, 7] = 0.5  # one value throughout
    expected = rankdata(np.where(np.isfinite(x), x, np.nan), axis=0, nan_policy="omit")
    np.testing.assert_array_equal(column_ranks(x), expected)
