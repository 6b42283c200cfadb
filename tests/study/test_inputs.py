"""Trade-to-trade returns from closes, and the event-time panel."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from monitor.errors import InputError
from monitor.study import SecuritySeries
from monitor.study.inputs import build_panel
from tests.study._synthetic import as_date, weekdays

SESSIONS = weekdays("2019-09-02", 12)


def test_trade_to_trade_across_a_halt():
    closes = [10.0, 11.0, np.nan, np.nan, 9.9, 10.0]  # no bar on sessions 2 and 3
    bench = [100.0, 101.0, 102.0, 99.0, 100.0, 100.5]
    s = SecuritySeries.from_closes("X", "B", as_date(SESSIONS[4]), SESSIONS[:6], closes, bench)
    assert np.isnan(s.returns[[0, 2, 3]]).all()
    assert s.returns[4] == pytest.approx(9.9 / 11.0 - 1)
    assert s.spans.tolist() == [0, 1, 0, 0, 3, 1]
    assert s.benchmark_returns[4] == pytest.approx(100.0 / 101.0 - 1)  # compounded over the same sessions
    assert s.benchmark_sums[4] == pytest.approx((102 / 101 - 1) + (99 / 102 - 1) + (100 / 99 - 1))
    assert s.halted.tolist() == [False, False, True, True, False, False]


def test_zero_volume_flag_is_a_halt_not_a_zero_return():
    closes = [10.0, 11.0, 11.0, 12.0]  # the flat row on session 2 is a suspension (volume 0)
    s = SecuritySeries.from_closes(
        "X", "B", None, SESSIONS[:4], closes, [1.0, 1.0, 1.1, 1.2], halted=[False, False, True, False]
    )
    assert np.isnan(s.returns[2])
    assert s.returns[3] == pytest.approx(12 / 11 - 1)
    assert s.spans[3] == 2


def test_missing_benchmark_close_lumps_the_pair_without_calling_it_a_halt():
    s = SecuritySeries.from_closes("X", "B", None, SESSIONS[:4], [10, 11, 12, 13], [100, 101, np.nan, 103])
    assert np.isnan(s.returns[2])
    assert not s.halted[2]
    assert s.returns[3] == pytest.approx(13 / 11 - 1)
    assert s.benchmark_returns[3] == pytest.approx(103 / 101 - 1)
    assert s.benchmark_sums[3] == pytest.approx(103 / 101 - 1)


@settings(max_examples=60, deadline=None)
@given(
    prices=hnp.arrays(np.float64, 30, elements=st.floats(1.0, 500.0)),
    holes=hnp.arrays(np.bool_, 30),
    bench_holes=hnp.arrays(np.bool_, 30),
)
def test_trade_to_trade_returns_chain_to_the_total_move(prices, holes, bench_holes):
    closes = np.where(holes, np.nan, prices)
    bench = np.where(bench_holes, np.nan, prices[::-1] * 3)
    s = SecuritySeries.from_closes("X", "B", None, weekdays("2019-01-01", 30), closes, bench)
    usable = np.flatnonzero(~holes & ~bench_holes)
    has = np.isfinite(s.returns)
    assert has.sum() == max(len(usable) - 1, 0)
    if len(usable) >= 2:
        first, last = usable[0], usable[-1]
        assert np.prod(1 + s.returns[has]) == pytest.approx(closes[last] / closes[first], rel=1e-9)
        assert np.prod(1 + s.benchmark_returns[has]) == pytest.approx(bench[last] / bench[first], rel=1e-9)
        assert s.spans[has].sum() == last - first
    assert (s.spans[~has] == 0).all()
    assert not np.any(s.returns[has] == 0) or np.any(np.diff(prices) == 0)


def test_inconsistent_inputs_are_refused_with_the_symbol():
    with pytest.raises(InputError, match=r"^X: closes and benchmark closes must have one value per session$"):
        SecuritySeries.from_closes("X", "B", None, SESSIONS[:3], [1, 2], [1, 2, 3])
    with pytest.raises(InputError, match="X: sessions are not strictly increasing"):
        SecuritySeries.from_closes("X", "B", None, SESSIONS[[0, 2, 1]], [1, 2, 3], [1, 2, 3])
    with pytest.raises(InputError, match="X: returns has 2 values for 3 sessions"):
        SecuritySeries("X", "B", None, SESSIONS[:3], np.zeros(2), np.zeros(3), np.ones(3, np.int64), np.zeros(3, bool))


def test_panel_gathers_each_security_at_its_own_relative_sessions():
    a = SecuritySeries.from_closes("A", "B", as_date(SESSIONS[5]), SESSIONS, np.arange(1.0, 13), np.ones(12) * 5)
    b = SecuritySeries.from_closes("C", "B", as_date(SESSIONS[8]), SESSIONS[2:], np.arange(1.0, 11), np.ones(10) * 5)
    panel = build_panel([a, b], -7, 5)
    assert panel.rel.tolist() == list(range(-7, 6))
    row0 = panel.row(0)
    assert panel.dates[row0].tolist() == [date(2019, 9, 9), date(2019, 9, 12)]
    assert panel.present[:, 0].tolist() == [False, False] + [True] * 11  # a starts 5 sessions before day 0
    assert panel.present[:, 1].tolist() == [False] + [True] * 10 + [False, False]  # c: sessions -6..+3
    assert np.isnan(panel.ret[~panel.present]).all()
    assert panel.ret[row0, 0] == pytest.approx(6 / 5 - 1)


def test_panel_reports_day0_problems():
    s = SecuritySeries.from_closes("A", "B", date(2019, 9, 7), SESSIONS, np.ones(12), np.ones(12))  # a Saturday
    later = SecuritySeries.from_closes("L", "B", date(2020, 1, 6), SESSIONS, np.ones(12), np.ones(12))
    panel = build_panel([s, later], -3, 3)
    assert panel.problem == (
        "day 0 2019-09-07 is not a session in the price history",
        "no prices yet for day 0 (2020-01-06)",
    )
    assert panel.waiting.tolist() == [False, True]
    assert not panel.present.any()
