"""Cross-event statistics: golden reductions (one event is exactly Kolari–Pynnönen) and invariances."""

from __future__ import annotations

import itertools
import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from monitor.report.pooled import EventSample, cluster_bmp, clusters, pool, portfolio_t, signed_z, stouffer
from monitor.study.statistics import CrossSection, windows_tests

finite = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)


def engine_kp(scars: np.ndarray, rbar: float) -> float | None:
    """The event-study engine's own KP-adjusted BMP for one window, with CAR variances of 1 (so SCAR = CAR)."""
    n = len(scars)
    cross = CrossSection(
        rbar=rbar, portfolio_sd=None, portfolio_df=0, rank_mean=np.zeros(0), rank_scale=None,
        positive_share=np.full(n, 0.5),
    )  # fmt: skip
    (tests,) = windows_tests(
        [(0, 0)], scars[None], np.ones((1, n)), np.ones((1, n)), np.full(n, 200), np.ones((1, n), bool), cross,
        [slice(0, 0)],
    )  # fmt: skip
    return tests.kp_bmp_t.value


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=3, max_size=40), st.floats(min_value=-0.02, max_value=0.9))
def test_one_event_is_exactly_kolari_pynnonen(values: list[float], rbar: float) -> None:
    scars = np.array(values)
    if np.std(scars) < 1e-6:
        return
    expected = engine_kp(scars, rbar)
    got = cluster_bmp(scars, [0] * len(scars), {0: rbar})
    assert expected is not None
    assert got.value == pytest.approx(expected, rel=1e-9)
    assert got.df == len(scars) - 1


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=4, max_size=30), st.integers(min_value=1, max_value=4))
def test_uncorrelated_clusters_reduce_to_the_plain_bmp(values: list[float], split: int) -> None:
    scars = np.array(values)
    if np.std(scars) < 1e-6:
        return
    labels = [i % split for i in range(len(scars))]
    got = cluster_bmp(scars, labels, dict.fromkeys(range(split), 0.0))
    plain = scars.mean() / (scars.std(ddof=1) / math.sqrt(len(scars)))
    assert got.value == pytest.approx(plain, rel=1e-9)


def test_correlation_inside_events_shrinks_the_statistic() -> None:
    scars = np.array([-2.0, -1.5, -2.5, -1.0, -3.0, -2.2])
    independent = cluster_bmp(scars, [0, 0, 0, 1, 1, 1], {0: 0.0, 1: 0.0})
    correlated = cluster_bmp(scars, [0, 0, 0, 1, 1, 1], {0: 0.4, 1: 0.4})
    one_date = cluster_bmp(scars, [0] * 6, {0: 0.4})
    assert independent.value is not None
    assert correlated.value is not None
    assert one_date.value is not None
    assert abs(one_date.value) < abs(correlated.value) < abs(independent.value)  # two dates beat one shared date


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=2, max_size=20))
def test_event_portfolio_t_is_the_one_sample_t(values: list[float]) -> None:
    x = np.array(values)
    if np.std(x) < 1e-6:
        return
    got = portfolio_t(x)
    expected = stats.ttest_1samp(x, 0.0)
    assert got.value == pytest.approx(expected.statistic, rel=1e-9)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-6)


def test_stouffer_and_signed_z() -> None:
    assert signed_z(1.0, -0.3) == 0.0
    assert signed_z(0.05, -0.1) == pytest.approx(-1.959964, abs=1e-5)
    assert signed_z(0.05, 0.1) == pytest.approx(1.959964, abs=1e-5)
    combined = stouffer({0: [2.0], 1: [2.0]})
    assert combined.value == pytest.approx(4 / math.sqrt(2))
    # A cluster of two correlated events counts once, with their mean z: conservative whatever the correlation.
    assert stouffer({0: [2.0, 2.0]}).value == pytest.approx(2.0)
    assert stouffer({}).value is None


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 12)), min_size=1, max_size=30))
def test_clusters_merge_exactly_the_overlapping_windows(spans: list[tuple[int, int]]) -> None:
    base = date(2019, 1, 1).toordinal()
    windows = {
        i: (date.fromordinal(base + s), date.fromordinal(base + s + length)) for i, (s, length) in enumerate(spans)
    }
    labels = clusters(windows)
    for a, (a0, a1) in windows.items():
        for b, (b0, b1) in windows.items():
            if a0 <= b1 and b0 <= a1:  # overlapping windows always share a cluster
                assert labels[a] == labels[b]
    ordered = sorted(windows.items(), key=lambda item: item[1][0])
    for (a, _), (b, (b0, _)) in itertools.pairwise(ordered):
        if labels[a] != labels[b]:
            assert max(end for i, (_, end) in windows.items() if labels[i] == labels[a]) < b0


def test_pool_weights_pairs_and_events_differently() -> None:
    big = EventSample(1, 0, cars=(-0.10,) * 8, scars=(-2.0, -2.1, -1.9, -2.2, -1.8, -2.0, -2.1, -1.9), rbar=0.2,
                      rank_z=-2.0, placebo_p=0.02)  # fmt: skip
    small = EventSample(2, 1, cars=(0.02, 0.04), scars=(0.5, 1.0), rbar=0.1, rank_z=0.5, placebo_p=0.8)
    cell = pool([big, small])
    assert (cell.events, cell.clusters, cell.n) == (2, 2, 10)
    assert cell.mean_car == pytest.approx((8 * -0.10 + 0.06) / 10)
    assert cell.mean_caar == pytest.approx((-0.10 + 0.03) / 2)
    assert cell.negative_share == pytest.approx(0.8)
    assert cell.portfolio_t.df == 1
    assert cell.placebo_events == 2
    assert cell.placebo.value is not None
    assert cell.placebo.value < 0
    assert pool([]).n == 0
