"""The placebo p-value: each draw must equal a full rerun of the study on the shifted date."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.models import DayStatus
from monitor.study import SecuritySeries, StudyParams, run_event
from monitor.study.inputs import build_panel
from monitor.study.placebo import candidate_shifts, choose_shifts, placebo_caars
from tests.study._synthetic import as_date, market

PARAMS = StudyParams(placebo_draws=40, placebo_lookback=200)


def _shifted(series: SecuritySeries, d: int) -> SecuritySeries:
    at = int(np.searchsorted(series.sessions, np.datetime64(series.day0, "D")))
    return SecuritySeries(
        series.symbol,
        series.benchmark,
        as_date(series.sessions[at - d]),
        series.sessions,
        series.returns,
        series.benchmark_returns,
        series.spans,
        series.halted,
        series.benchmark_sums,
    )


@pytest.mark.parametrize("model", ["market", "constant-mean", "market-adjusted"])
def test_each_draw_equals_a_rerun_on_the_shifted_date(model):
    m = market(n=8, days=700, e=650, seed=21)
    series = m.all_series()
    closes, bench = m.closes(3), m.benchmark_closes()
    halted = np.zeros(700, bool)
    halted[[m.e - 40, m.e - 39, m.e - 200]] = True  # halts that land inside some placebo windows
    series[3] = SecuritySeries.from_closes("S003", "IDX", m.day0, m.sessions, closes, bench, halted)
    params = PARAMS.with_(model=model)
    panel = build_panel(series, -265 - 200, 5 + params.max_halt_extension)
    used = np.ones(8, bool)
    shifts = np.array([11, 37, 38, 45, 150, 196])
    caars = placebo_caars(panel, params, used, shifts)
    for d, caar in zip(shifts, caars, strict=True):
        rerun = run_event([_shifted(s, int(d)) for s in series], params.with_(placebo_draws=0))
        assert caar == pytest.approx(rerun.aggregate.caar, rel=1e-8, abs=1e-13), d


def test_shift_candidates_respect_history_and_the_real_window():
    m = market(n=3, days=700, e=600)
    series = m.all_series()
    panel = build_panel(series, -265 - 500, 65)
    shifts = candidate_shifts(panel, StudyParams(placebo_draws=10), np.ones(3, bool))
    assert shifts[0] == 11  # the placebo window [-5-d, 5-d] ends before the real one starts
    # History starts 600 sessions before day 0: the deepest estimation window [-265-d, -16-d] must still hold
    # 120 sessions of it, so -16-d >= -600+119.
    assert shifts[-1] == 600 - 16 - 119
    deep = build_panel(market(n=3, days=1000, e=900).all_series(), -265 - 500, 65)
    assert candidate_shifts(deep, StudyParams(placebo_draws=10), np.ones(3, bool))[-1] == 500  # the lookback
    assert choose_shifts(np.arange(11, 20), StudyParams(placebo_draws=50)).tolist() == list(range(11, 20))


def test_p_value_counts_draws_at_least_as_extreme():
    m = market(n=10, days=800, e=760, shock={0: -0.06})
    result = run_event(m.all_series(), PARAMS)
    placebo = result.aggregate.placebo
    assert placebo is not None
    assert placebo.draws == 40
    caars = np.array(placebo.caars)
    extreme = (np.abs(caars) >= abs(result.aggregate.caar)).sum()
    assert placebo.p_value == pytest.approx((1 + extreme) / 41)
    assert placebo.p_value == pytest.approx(1 / 41)  # a -6% shock on every stock is beyond every placebo date
    assert all(11 <= s <= 200 for s in placebo.shifts)


def test_placebo_is_seeded_and_reproducible():
    m = market(n=5, days=800, e=760)
    a = run_event(m.all_series(), PARAMS).aggregate.placebo
    b = run_event(m.all_series(), PARAMS).aggregate.placebo
    c = run_event(m.all_series(), PARAMS.with_(placebo_seed=1)).aggregate.placebo
    assert a == b
    assert a.shifts != c.shifts


def test_placebo_reports_why_it_is_missing():
    m = market(n=3, days=200, e=140)  # enough history for the study itself, not for a placebo 11+ sessions back
    placebo = run_event(m.all_series(), StudyParams(placebo_draws=100)).aggregate.placebo
    assert placebo is not None
    assert placebo.p_value is None
    assert placebo.note == "the price histories are too short for an event-free placebo date"
    assert run_event(m.all_series(), StudyParams()).aggregate.placebo is None


def test_placebo_leaves_suspect_and_excluded_returns_out_as_the_study_does():
    """A suspect return (a +60% spike beyond the bound) and excluded sessions (an earlier event's window) stay out
    of every placebo estimation window, and a placebo window holding one is no event-free date: that security sits
    the draw out. Expected CAARs from plain numpy (np.polyfit per security), not from the engine."""
    m = market(n=6, days=700, e=650, seed=5)
    R = m.R.copy()
    spike = m.e - 60
    R[spike, 1] = 0.60
    suspect = np.zeros(700, dtype=np.int8)  # traded everywhere but the spike
    suspect[spike] = DayStatus.code(DayStatus.SUSPECT)
    series = m.all_series()
    s1 = series[1]
    series[1] = SecuritySeries(
        s1.symbol, s1.benchmark, s1.day0, s1.sessions, np.where(np.arange(700) == 0, np.nan, R[:, 1]),
        s1.benchmark_returns, s1.spans, s1.halted, status=suspect,
    )  # fmt: skip
    earlier = np.arange(m.e - 130, m.e - 119)  # rel −130 … −120: an earlier event's window [−5,+5]
    series[2] = series[2].excluding(m.sessions[earlier])
    flagged = np.zeros((700, 6), dtype=bool)
    flagged[spike, 1] = True
    flagged[earlier, 2] = True
    params = StudyParams(placebo_draws=40, placebo_lookback=200)
    est_first, est_last = params.estimation_range
    panel = build_panel(series, est_first - 200, 5 + params.max_halt_extension)
    shifts = np.array([11, 40, 58, 100, 125, 180])  # 58: the spike in the window; 125: the earlier event's window
    caars = placebo_caars(panel, params, np.ones(6, bool), shifts)

    expected = []
    for d in shifts:
        cars = []
        for i in range(6):
            est = np.arange(m.e - d + est_first, m.e - d + est_last + 1)
            est = est[~flagged[est, i]]
            beta, alpha = np.polyfit(m.rm[est], R[est, i], 1)
            window = np.arange(m.e - d - 5, m.e - d + 6)
            if flagged[window, i].any():
                continue
            cars.append(np.sum(R[window, i] - alpha - beta * m.rm[window]))
        expected.append(np.mean(cars))
    np.testing.assert_allclose(caars, expected, rtol=1e-9, atol=1e-13)
