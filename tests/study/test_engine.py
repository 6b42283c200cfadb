"""The whole engine against independent computations of §1.4–1.5 and against hand-checked cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitor.study import SecuritySeries, StudyParams, run_event
from tests.study._reference import gls, sketch, window_covariance
from tests.study._synthetic import as_date, market

PARAMS = StudyParams()  # market model, L1 = 250, gap = 10, window [-5, +5]


@pytest.fixture(scope="module")
def clustered():
    """30 stocks sharing one date, with a common residual factor (r̄ > 0) and a day-0 shock."""
    m = market(n=30, common=0.6, shock={0: -0.04, 1: -0.01})
    return m, run_event(m.all_series(), PARAMS)


def test_every_statistic_matches_the_reference_sketch(clustered):
    m, result = clustered
    ref = sketch(m.R, m.rm, m.e, (-5, 5), 10, 250)
    secs = result.securities
    assert all(s.status == "complete" for s in secs)
    np.testing.assert_allclose([s.alpha for s in secs], ref["alpha"], rtol=1e-9)
    np.testing.assert_allclose([s.beta for s in secs], ref["beta"], rtol=1e-9)
    np.testing.assert_allclose([s.sigma**2 for s in secs], ref["s2"], rtol=1e-9)
    assert [s.n_estimation for s in secs] == [250] * 30
    np.testing.assert_allclose([[d.ar for d in s.days] for s in secs], ref["AR"].T, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        [[d.ar_t for d in s.days] for s in secs], (ref["AR"] / np.sqrt(ref["varAR"])).T, rtol=1e-9
    )
    np.testing.assert_allclose([s.car for s in secs], ref["CAR"], rtol=1e-9)
    np.testing.assert_allclose([s.car_variance for s in secs], ref["varCAR"], rtol=1e-9)
    np.testing.assert_allclose([s.car_t for s in secs], ref["CAR"] / np.sqrt(ref["varCAR"]), rtol=1e-9)

    tests = result.aggregate.tests
    assert tests.n == 30
    assert tests.caar == pytest.approx(ref["CAR"].mean(), rel=1e-12)
    assert tests.cross_sectional_t.value == pytest.approx(ref["t_cs"], rel=1e-9)
    assert tests.patell_z.value == pytest.approx(ref["patell"], rel=1e-9)
    assert tests.bmp_t.value == pytest.approx(ref["bmp"], rel=1e-9)
    assert tests.mean_residual_correlation == pytest.approx(ref["rbar"], rel=1e-9)
    assert tests.kp_bmp_t.value == pytest.approx(ref["kp"], rel=1e-9)
    assert tests.portfolio_t.value == pytest.approx(ref["bw"], rel=1e-9)
    assert tests.rank_z.value == pytest.approx(ref["rank"], rel=1e-9)
    assert result.aggregate.rank_z_day0.value == pytest.approx(ref["rank_day0"], rel=1e-9)
    assert tests.generalized_sign_z.value == pytest.approx(ref["gsign"], rel=1e-9)


def test_p_values_use_the_stated_null_distributions(clustered):
    from scipy import stats

    _, result = clustered
    tests = result.aggregate.tests
    assert tests.bmp_t.df == 29
    assert tests.bmp_t.p_value == pytest.approx(2 * stats.t.sf(abs(tests.bmp_t.value), 29))
    assert tests.portfolio_t.df == 249  # t(L1 − 1)
    assert tests.patell_z.df is None
    assert tests.patell_z.p_value == pytest.approx(2 * stats.norm.sf(abs(tests.patell_z.value)))
    first = result.securities[0]
    assert first.df == 248
    assert first.car_p == pytest.approx(2 * stats.t.sf(abs(first.car_t), 248))


def test_clustering_shrinks_the_kp_statistic(clustered):
    _, result = clustered
    tests = result.aggregate.tests
    rbar = tests.mean_residual_correlation
    assert rbar > 0.1
    assert tests.kp_factor == pytest.approx(np.sqrt((1 - rbar) / (1 + 29 * rbar)))
    assert abs(tests.kp_bmp_t.value) < abs(tests.bmp_t.value) / 2


def test_daily_aar_and_its_tests(clustered):
    m, result = clustered
    ref = sketch(m.R, m.rm, m.e, (-5, 5), 10, 250)
    aar = result.aggregate.aar
    assert [d.rel_day for d in aar] == list(range(-5, 6))
    np.testing.assert_allclose([d.aar for d in aar], ref["AR"].mean(1), rtol=1e-9)
    assert all(d.n == 30 for d in aar)
    t = ref["AR"].mean(1) / (ref["AR"].std(1, ddof=1) / np.sqrt(30))
    np.testing.assert_allclose([d.t for d in aar], t, rtol=1e-9)
    bmp = ref["SAR"].mean(1) / (ref["SAR"].std(1, ddof=1) / np.sqrt(30))
    np.testing.assert_allclose([d.bmp_t for d in aar], bmp, rtol=1e-9)


def test_sub_windows_use_the_exact_variance(clustered):
    m, result = clustered
    ref = sketch(m.R, m.rm, m.e, (-5, 5), 10, 250)
    first = result.securities[0]
    est = slice(m.e - 265, m.e - 15)
    X = np.column_stack([np.ones(250), m.rm[est]])
    fit = gls(m.R[est, 0], X, np.ones(250))
    for (a, b), label in (
        ((0, 0), "[0,0]"),
        ((0, 1), "[0,1]"),
        ((-1, 1), "[-1,1]"),
        ((0, 3), "[0,3]"),
        ((0, 5), "[0,5]"),
    ):
        rows = slice(m.e + a, m.e + b + 1)
        Xstar = np.column_stack([np.ones(b - a + 1), m.rm[rows]])
        V = window_covariance(fit, Xstar, np.ones(b - a + 1))
        sub = first.sub_windows[label]
        assert sub.car == pytest.approx(ref["AR"][a + 5 : b + 6, 0].sum(), rel=1e-9)
        assert sub.variance == pytest.approx(V.sum(), rel=1e-9)  # γ'Vγ with γ = 1
        assert (sub.first, sub.last, sub.complete) == (a, b, True)
    # The exact CAR variance exceeds the sum of the daily PE-corrected variances (cross-day covariance).
    assert first.car_variance > ref["varAR"][:, 0].sum()


def test_bhar_compounds_actual_and_normal_returns(clustered):
    m, result = clustered
    s = result.securities[3]
    rows = slice(m.e - 5, m.e + 6)
    expected = s.alpha + s.beta * m.rm[rows]
    assert s.bhar == pytest.approx(np.prod(1 + m.R[rows, 3]) - np.prod(1 + expected), rel=1e-9)


def test_market_adjusted_and_constant_mean_models():
    m = market(n=5)
    est = slice(m.e - 265, m.e - 15)
    evt = slice(m.e - 5, m.e + 6)
    adj = run_event(m.all_series(), StudyParams(model="market-adjusted"))
    mean = run_event(m.all_series(), StudyParams(model="constant-mean"))
    for i in range(5):
        d = m.R[est, i] - m.rm[est]
        s2 = d.var(ddof=1)
        a = adj.securities[i]
        assert (a.alpha, a.beta) == (None, None)
        assert a.car == pytest.approx((m.R[evt, i] - m.rm[evt]).sum(), rel=1e-9)
        assert a.car_variance == pytest.approx(11 * s2, rel=1e-9)
        assert a.df == 249

        mu = m.R[est, i].mean()
        s2 = m.R[est, i].var(ddof=1)
        c = mean.securities[i]
        assert c.alpha == pytest.approx(mu, rel=1e-9)
        assert c.beta is None
        assert c.car == pytest.approx((m.R[evt, i] - mu).sum(), rel=1e-9)
        assert c.car_variance == pytest.approx(s2 * (11 + 11**2 / 250), rel=1e-9)


def test_known_answer_recovers_injected_shocks_exactly():
    """Estimation residuals orthogonal to [1, R_m] make OLS return the true α and β; the event window carries only
    the injected abnormal returns, so every AR, CAR and variance has a closed-form answer."""
    rng = np.random.default_rng(3)
    m = market(n=4, seed=3)
    est = slice(m.e - 265, m.e - 15)
    X = np.column_stack([np.ones(250), m.rm[est]])
    H = X @ np.linalg.solve(X.T @ X, X.T)
    shocks = np.array([0.0, 0.0, 0.03, 0.0, 0.0, -0.08, -0.01, 0.0, 0.0, 0.0, 0.0])  # rel -5..+5
    for i in range(4):
        z = rng.normal(0, 0.02, 250)
        e = z - H @ z
        m.R[:, i] = m.alpha[i] + m.beta[i] * m.rm
        m.R[est, i] += e
        m.R[m.e - 5 : m.e + 6, i] += shocks
    result = run_event(m.all_series(), PARAMS)
    rm_est = m.rm[est]
    smm = ((rm_est - rm_est.mean()) ** 2).sum()
    for i, s in enumerate(result.securities):
        assert s.alpha == pytest.approx(m.alpha[i], abs=1e-12)
        assert s.beta == pytest.approx(m.beta[i], rel=1e-10)
        np.testing.assert_allclose([d.ar for d in s.days], shocks, atol=1e-12)
        assert s.car == pytest.approx(shocks.sum(), abs=1e-12)
        s2 = s.sigma**2
        dm = (m.rm[m.e - 5 : m.e + 6] - rm_est.mean()).sum()
        assert s.car_variance == pytest.approx(s2 * (11 + 121 / 250 + dm**2 / smm), rel=1e-10)
    assert result.aggregate.caar == pytest.approx(shocks.sum(), abs=1e-12)
    assert result.aggregate.aar[5].aar == pytest.approx(-0.08, abs=1e-12)


def test_too_few_returns_is_insufficient_data_with_the_reason():
    m = market(n=3)
    short = m.series(2)
    ret = short.returns.copy()
    ret[: m.e - 150] = np.nan  # only sessions -150.. remain: 135 of them fall in [-265,-16]
    thin = SecuritySeries(
        short.symbol, "IDX", short.day0, short.sessions, ret, short.benchmark_returns, short.spans, short.halted
    )
    result = run_event([m.series(0), m.series(1), thin], PARAMS)
    assert result.securities[2].status == "complete"
    ret[: m.e - 130] = np.nan  # now 115 valid returns
    thinner = SecuritySeries(
        short.symbol, "IDX", short.day0, short.sessions, ret, short.benchmark_returns, short.spans, short.halted
    )
    result = run_event([m.series(0), m.series(1), thinner], PARAMS)
    s = result.securities[2]
    assert s.status == "insufficient_data"
    assert s.reason == "only 115 valid returns in the estimation window [-265,-16]; 120 needed"
    assert s.n_estimation == 115
    assert (s.car, s.alpha, s.car_t) == (None, None, None)
    assert [d.ret for d in s.days][:2] == pytest.approx(list(m.R[m.e - 5 : m.e - 3, 2]))  # raw returns still shown
    assert all(d.ar is None for d in s.days)
    assert result.aggregate.n == 2


def test_exactly_the_minimum_is_enough():
    m = market(n=2)
    s = m.series(1)
    ret = s.returns.copy()
    ret[: m.e - 135] = np.nan  # rows -135..-16 inclusive: 120 returns
    edge = SecuritySeries(s.symbol, "IDX", s.day0, s.sessions, ret, s.benchmark_returns, s.spans, s.halted)
    result = run_event([m.series(0), edge], PARAMS)
    assert result.securities[1].n_estimation == 120
    assert result.securities[1].status == "complete"


def _halted(m, i: int, halted_rel: list[int], bench_missing_rel: list[int] = ()) -> SecuritySeries:
    closes = m.closes(i)
    bench = m.benchmark_closes()
    halted = np.zeros(len(closes), dtype=bool)
    for rel in halted_rel:
        halted[m.e + rel] = True
    bench = bench.copy()
    for rel in bench_missing_rel:
        bench[m.e + rel] = np.nan
    return SecuritySeries.from_closes(f"S{i:03d}", "IDX", m.day0, m.sessions, closes, bench, halted)


def test_halt_inside_the_window_is_one_lumped_abnormal_return():
    m = market(n=6)
    series = m.all_series()
    series[2] = _halted(m, 2, [2, 3])  # no trade on +2 and +3; the return ending on +4 spans three sessions
    result = run_event(series, PARAMS)
    s = result.securities[2]
    days = {d.rel_day: d for d in s.days}
    assert (days[2].ar, days[3].ar, days[2].sessions, days[3].sessions) == (None, None, 0, 0)
    assert days[2].halted
    assert days[3].halted
    assert not days[4].halted
    assert days[4].sessions == 3

    est = slice(m.e - 265, m.e - 15)
    X = np.column_stack([np.ones(250), m.rm[est]])
    fit = gls(m.R[est, 2], X, np.ones(250))
    alpha, beta = fit.theta
    closes = m.closes(2)
    lumped = closes[m.e + 4] / closes[m.e + 1] - 1
    bench_sum = m.rm[m.e + 2 : m.e + 5].sum()
    assert days[4].ret == pytest.approx(lumped, rel=1e-12)
    bench = m.benchmark_closes()
    assert days[4].benchmark_return == pytest.approx(bench[m.e + 4] / bench[m.e + 1] - 1, rel=1e-12)
    assert days[4].ar == pytest.approx(lumped - 3 * alpha - beta * bench_sum, rel=1e-9)
    rbar = m.rm[est].mean()
    smm = ((m.rm[est] - rbar) ** 2).sum()
    var4 = fit.s2 * (3 + 9 / 250 + (bench_sum - 3 * rbar) ** 2 / smm)  # §1.6: the CAR formula over k = 3 sessions
    assert days[4].ar_t == pytest.approx(days[4].ar / np.sqrt(var4), rel=1e-9)

    # The window's CAR covers the same 11 sessions, so its exact variance equals the no-halt one.
    traded = [r for r in range(-5, 6) if r not in (2, 3, 4)]
    expected_car = sum(m.R[m.e + r, 2] - alpha - beta * m.rm[m.e + r] for r in traded) + days[4].ar
    assert s.car == pytest.approx(expected_car, rel=1e-9)
    Xstar = np.column_stack([np.ones(11), m.rm[m.e - 5 : m.e + 6]])
    assert s.car_variance == pytest.approx(window_covariance(fit, Xstar, np.ones(11)).sum(), rel=1e-9)
    # Day-level AAR leaves the halted stock out of +2 and +3 and counts its lumped return on +4.
    assert [d.n for d in result.aggregate.aar] == [6] * 7 + [5, 5, 6, 6]
    assert s.status == "complete"
    assert s.day0_halted is False


def test_halt_on_day0_moves_the_reaction_to_the_first_traded_session():
    m = market(n=6, shock={0: -0.05})
    series = m.all_series()
    series[0] = _halted(m, 0, [0, 1])  # like Hikvision: halted on day 0 and +1, resumes on +2
    result = run_event(series, PARAMS)
    s = result.securities[0]
    assert s.day0_halted is True
    assert s.reaction_day == 2
    assert s.reaction_date == as_date(m.sessions[m.e + 2])
    day0 = s.sub_windows["[0,0]"]
    lumped = next(d for d in s.days if d.rel_day == 2)
    assert lumped.sessions == 3
    assert day0.car == pytest.approx(lumped.ar)
    assert (day0.first, day0.last, day0.complete) == (0, 2, True)
    assert lumped.ar < -0.03  # the injected day-0 shock shows up in the lumped return
    assert s.sub_windows["[0,1]"].car == pytest.approx(lumped.ar)  # [0,1] also ends inside the halt
    assert s.sub_windows["[-1,1]"].car == pytest.approx(next(d for d in s.days if d.rel_day == -1).ar + lumped.ar)
    aar0 = next(d for d in result.aggregate.aar if d.rel_day == 0)
    assert aar0.n == 5  # the halted stock sits the day out of the day-level cross-section
    assert result.aggregate.sub_windows["[0,0]"].n == 6  # ... but its reaction is in the [0,0] CAR tests
    for other in result.securities[1:]:
        assert other.day0_halted is False
        assert other.reaction_day == 0


def test_benchmark_with_a_missing_day_lumps_the_pair():
    m = market(n=4)
    series = m.all_series()
    series[1] = _halted(m, 1, [], bench_missing_rel=[-1, -100])
    result = run_event(series, PARAMS)
    s = result.securities[1]
    days = {d.rel_day: d for d in s.days}
    assert days[-1].ar is None
    assert days[-1].sessions == 0
    assert days[-1].halted is False
    bench = m.benchmark_closes()
    closes = m.closes(1)
    assert days[0].sessions == 2
    assert days[0].ret == pytest.approx(closes[m.e] / closes[m.e - 2] - 1, rel=1e-12)
    assert days[0].benchmark_return == pytest.approx(bench[m.e] / bench[m.e - 2] - 1, rel=1e-12)
    assert s.n_estimation == 249  # the missing day at -100 merged two estimation returns into one

    # Independent GLS over the 249 observations (one of them spanning two sessions).
    rows = [r for r in range(-265, -15) if r != -100]
    k = np.array([2.0 if r == -99 else 1.0 for r in rows])
    R = np.array([closes[m.e + r] / closes[m.e + r - int(kk)] - 1 for r, kk in zip(rows, k, strict=True)])
    B = np.array([bench[m.e + r] / bench[m.e + r - int(kk)] - 1 for r, kk in zip(rows, k, strict=True)])
    fit = gls(R, np.column_stack([k, B]), k)
    assert s.alpha == pytest.approx(fit.theta[0], rel=1e-9)
    assert s.beta == pytest.approx(fit.theta[1], rel=1e-9)
    assert s.sigma**2 == pytest.approx(fit.s2, rel=1e-9)
    evt = list(range(-5, 6))
    evt.remove(-1)
    kstar = np.array([2.0 if r == 0 else 1.0 for r in evt])
    Bstar = np.array([bench[m.e + r] / bench[m.e + r - int(kk)] - 1 for r, kk in zip(evt, kstar, strict=True)])
    V = window_covariance(fit, np.column_stack([kstar, Bstar]), kstar)
    assert s.car_variance == pytest.approx(V.sum(), rel=1e-9)
    assert days[0].ar_t == pytest.approx(days[0].ar / np.sqrt(V[evt.index(0), evt.index(0)]), rel=1e-9)


def test_securities_on_different_calendars_align_by_event_time():
    m = market(n=2)
    us = m.series(0)
    # The second stock's exchange is closed for a week before day 0 (a Golden-Week-like holiday block).
    keep = np.ones(len(m.sessions), dtype=bool)
    keep[m.e - 5 : m.e] = False
    closes = m.closes(1)[keep]
    bench = m.benchmark_closes()[keep]
    cn = SecuritySeries.from_closes("CN", "IDX2", m.day0, m.sessions[keep], closes, bench)
    result = run_event([us, cn], PARAMS)
    a, b = result.securities
    assert a.days[4].date == as_date(m.sessions[m.e - 1])
    assert b.days[4].date == as_date(m.sessions[m.e - 6])  # its own previous session, before the holiday
    assert b.days[5].date == a.days[5].date == m.day0
    assert b.days[5].sessions == 1  # a holiday is not a session: the post-holiday return spans one session
    assert b.benchmark == "IDX2"


def test_pending_and_partial_statuses():
    m = market(n=3)
    live = m.series(0)
    cut = m.e + 2  # prices through day +2 only
    partial = SecuritySeries(
        "LIVE",
        "IDX",
        live.day0,
        live.sessions[: cut + 1],
        live.returns[: cut + 1],
        live.benchmark_returns[: cut + 1],
        live.spans[: cut + 1],
        live.halted[: cut + 1],
    )
    waiting = SecuritySeries(
        "WAIT", "IDX", None, live.sessions, live.returns, live.benchmark_returns, live.spans, live.halted
    )
    result = run_event([partial, waiting, m.series(1)], PARAMS)
    p, w, c = result.securities
    assert p.status == "partial"
    assert [d.rel_day for d in p.days] == list(range(-5, 3))
    assert p.through_date == as_date(m.sessions[cut])
    assert p.car == pytest.approx(sum(d.ar for d in p.days))
    assert p.sub_windows["[0,3]"].complete is False
    assert p.sub_windows["[0,1]"].complete is True
    assert w.status == "pending"
    assert "not known yet" in w.reason
    assert c.status == "complete"
    assert result.aggregate.n == 1  # the window still running stays out of the tests unless asked for
    assert result.aggregate.to_dict()["partial_windows"] == "excluded"
    asked = run_event([partial, waiting, m.series(1)], PARAMS.with_(include_partial=True)).aggregate
    assert (asked.n, asked.to_dict()["partial_windows"]) == (2, "included")
    assert result.aggregate.sub_windows["[0,1]"].n == 2  # [0,1] is complete for both: it pools both


def test_day0_missing_from_the_history_is_reported():
    m = market(n=2)
    s = m.series(0)
    future = as_date(m.sessions[-1] + 30)
    odd = SecuritySeries("ODD", "IDX", future, s.sessions, s.returns, s.benchmark_returns, s.spans, s.halted)
    weekend = SecuritySeries(
        "SAT",
        "IDX",
        as_date(np.datetime64("2019-05-04")),
        s.sessions,
        s.returns,
        s.benchmark_returns,
        s.spans,
        s.halted,
    )
    result = run_event([odd, weekend], PARAMS)
    assert result.securities[0].status == "pending"
    assert result.securities[0].reason == f"no prices yet for day 0 ({future.isoformat()})"
    assert result.securities[1].status == "insufficient_data"
    assert result.securities[1].reason == "day 0 2019-05-04 is not a session in the price history"
    assert result.aggregate.n == 0
    assert result.aggregate.caar is None
    assert result.aggregate.tests.bmp_t.value is None


def test_json_has_the_documented_shape_and_no_nan():
    m = market(n=4)
    series = m.all_series()
    series[0] = _halted(m, 0, [0])
    body = run_event(series, PARAMS.with_(placebo_draws=20, placebo_lookback=60)).to_dict()
    text = json.dumps(body, allow_nan=False)
    assert json.loads(text) == body
    assert {"model", "estimation", "gap", "window", "securities", "aggregate"} <= body.keys()
    sec = body["securities"][0]
    assert {
        "symbol",
        "benchmark",
        "day0",
        "status",
        "alpha",
        "beta",
        "sigma",
        "n_estimation",
        "car",
        "car_variance",
        "car_t",
        "bhar",
        "days",
    } <= sec.keys()
    assert {"rel_day", "date", "return", "benchmark_return", "ar", "car", "sessions"} <= sec["days"][0].keys()
    agg = body["aggregate"]
    assert {"n", "caar", "aar", "tests"} <= agg.keys()
    assert {"rel_day", "aar", "n"} <= agg["aar"][0].keys()
    assert {
        "cross_sectional_t",
        "patell_z",
        "bmp_t",
        "kp_bmp_t",
        "mean_residual_correlation",
        "portfolio_t",
        "rank_z",
        "rank_z_day0",
        "generalized_sign_z",
        "placebo_p",
    } <= agg["tests"].keys()
    assert agg["tests"]["placebo_p"] is not None
    assert body["window"] == [-5, 5]
