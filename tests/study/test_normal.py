"""Model fits and exact variances against explicit-matrix least squares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.study.normal import fit
from tests.study._reference import gls, window_covariance


def _sample(seed: int, rows: int = 80, cols: int = 4, halts: bool = True):
    rng = np.random.default_rng(seed)
    span = rng.choice([1.0, 1.0, 1.0, 2.0, 3.0], size=(rows, cols)) if halts else np.ones((rows, cols))
    bench = rng.normal(0.0, 0.01, (rows, cols)) * np.sqrt(span)
    ret = 0.0003 * span + rng.uniform(0.3, 1.5, cols) * bench + rng.normal(0, 0.02, (rows, cols)) * np.sqrt(span)
    valid = rng.random((rows, cols)) > 0.1
    return np.where(valid, ret, np.nan), np.where(valid, bench, np.nan), np.where(valid, span, 0.0), valid


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), halts=st.booleans())
def test_market_model_is_weighted_least_squares(seed, halts):
    ret, bench, span, valid = _sample(seed, halts=halts)
    f = fit("market", ret, bench, span, valid)
    for i in range(ret.shape[1]):
        v = valid[:, i]
        k = span[v, i]
        X = np.column_stack([k, bench[v, i]])
        ref = gls(ret[v, i], X, k)
        assert f.alpha[i] == pytest.approx(ref.theta[0], rel=1e-8, abs=1e-12)
        assert f.beta[i] == pytest.approx(ref.theta[1], rel=1e-8)
        assert f.s2[i] == pytest.approx(ref.s2, rel=1e-8)
        assert f.n[i] == v.sum()
        assert f.df[i] == v.sum() - 2
        # Exact variance of a 4-observation window, one of them spanning 3 sessions, versus γ'Vγ.
        kstar = np.array([1.0, 3.0, 1.0, 2.0])
        bstar = np.array([0.01, -0.02, 0.005, 0.0])
        V = window_covariance(ref, np.column_stack([kstar, bstar]), kstar)
        got = f.sum_variance(np.array([kstar.sum()] * ret.shape[1]), np.array([bstar.sum()] * ret.shape[1]))[i]
        assert got == pytest.approx(V.sum(), rel=1e-8)
        one = f.sum_variance(np.full(ret.shape[1], 3.0), np.full(ret.shape[1], -0.02))[i]
        assert one == pytest.approx(V[1, 1], rel=1e-8)


def test_constant_mean_and_market_adjusted_fits():
    ret, bench, span, valid = _sample(11)
    mean = fit("constant-mean", ret, bench, span, valid)
    adj = fit("market-adjusted", ret, bench, span, valid)
    for i in range(ret.shape[1]):
        v = valid[:, i]
        k = span[v, i]
        ref = gls(ret[v, i], k[:, None], k)
        assert mean.alpha[i] == pytest.approx(ref.theta[0], rel=1e-9)
        assert mean.s2[i] == pytest.approx(ref.s2, rel=1e-9)
        V = window_covariance(ref, np.array([[1.0], [2.0]]), np.array([1.0, 2.0]))
        assert mean.sum_variance(np.full(4, 3.0), np.zeros(4))[i] == pytest.approx(V.sum(), rel=1e-9)
        d = ret[v, i] - bench[v, i]
        ref_adj = gls(d, k[:, None], k)  # the ddof=1 demeaned variance, generalised to lumped returns
        assert adj.s2[i] == pytest.approx(ref_adj.s2, rel=1e-9)
        assert adj.sum_variance(np.full(4, 3.0), np.zeros(4))[i] == pytest.approx(3 * ref_adj.s2, rel=1e-9)
        np.testing.assert_allclose(adj.residuals[v, i], d)


def test_one_session_returns_give_the_textbook_formulas():
    rng = np.random.default_rng(5)
    rm = rng.normal(0, 0.01, 250)
    r = 0.001 + 1.3 * rm + rng.normal(0, 0.02, 250)
    f = fit("market", r[:, None], rm[:, None], np.ones((250, 1)), np.ones((250, 1), bool))
    beta, alpha = np.polyfit(rm, r, 1)
    assert f.beta[0] == pytest.approx(beta, rel=1e-10)
    assert f.alpha[0] == pytest.approx(alpha, rel=1e-10)
    resid = r - alpha - beta * rm
    assert f.s2[0] == pytest.approx((resid**2).sum() / 248, rel=1e-10)
    smm = ((rm - rm.mean()) ** 2).sum()
    evt = np.array([0.01, -0.02, 0.003])
    exact = f.s2[0] * (3 + 9 / 250 + ((evt - rm.mean()).sum()) ** 2 / smm)
    assert f.sum_variance(np.array([3.0]), np.array([evt.sum()]))[0] == pytest.approx(exact, rel=1e-10)


def test_problems_name_the_cause():
    ret, bench, span, valid = _sample(2, rows=30)
    flat = bench.copy()
    flat[:, 1] = 0.0
    f = fit("market", ret, flat, span, valid)
    problems = f.problems(20, -265, -16)
    assert problems[0] is None
    assert problems[1] == "the benchmark did not move over the estimation window; beta cannot be estimated"
    f = fit("market", ret, bench, span, valid)
    assert (
        f.problems(40, -265, -16)[0]
        == f"only {valid[:, 0].sum()} valid returns in the estimation window [-265,-16]; 40 needed"
    )


@pytest.mark.parametrize("model", ["market", "constant-mean", "market-adjusted"])
def test_columns_without_halts_fit_the_same_whether_or_not_another_column_has_one(model):
    """A chunk with no multi-session return skips the 1/k weights; a halt in any one column brings them back for all.
    Columns are fitted independently, so the halt-free columns must come out bit for bit the same either way."""
    ret, bench, span, valid = _sample(3, cols=5, halts=False)
    h_ret, h_bench, h_span, h_valid = _sample(4, cols=1, halts=True)
    assert h_span.max() > 1
    alone = fit(model, ret, bench, span, valid)
    mixed = fit(
        model, *(np.hstack(pair) for pair in ((ret, h_ret), (bench, h_bench), (span, h_span), (valid, h_valid)))
    )
    for name in ("n", "sessions", "alpha", "beta", "s2", "df", "bbar", "smm", "residuals"):
        np.testing.assert_array_equal(getattr(mixed, name)[..., :5], getattr(alone, name), err_msg=name)
