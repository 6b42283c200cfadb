"""Which returns a window takes when halts straddle its edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.study import SecuritySeries, StudyParams, run_event
from tests.study._synthetic import market

PARAMS = StudyParams()


def _with_halts(m, i: int, rels: list[int], cut: int | None = None) -> SecuritySeries:
    halted = np.zeros(len(m.sessions), dtype=bool)
    halted[[m.e + r for r in rels]] = True
    end = len(m.sessions) if cut is None else m.e + cut + 1
    return SecuritySeries.from_closes(
        "H",
        "IDX",
        m.day0,
        m.sessions[:end],
        m.closes(i)[:end],
        m.benchmark_closes()[:end],
        halted[:end],
    )


def test_a_halt_over_the_window_end_extends_the_window_to_the_reopening():
    m = market(n=3)
    result = run_event([m.series(0), _with_halts(m, 1, [5, 6])], PARAMS)
    s = result.securities[1]
    assert s.status == "complete"
    assert [d.rel_day for d in s.days][-1] == 7  # the return ending on +7 contains +5's move
    last = s.days[-1]
    assert last.sessions == 3
    assert s.car == pytest.approx(sum(d.ar for d in s.days if d.ar is not None))
    assert s.sub_windows["[0,5]"].last == 7
    assert s.sub_windows["[0,5]"].complete is True
    assert s.through_date == last.date
    # Day-level AAR stays on the nominal window; the return ending on +7 counts on +5, its last day (end-day
    # convention), so the daily AARs add up to the CAAR.
    assert [d.rel_day for d in result.aggregate.aar] == list(range(-5, 6))
    assert result.aggregate.aar[-1].n == 2
    assert sum(d.aar for d in result.aggregate.aar) == pytest.approx(result.aggregate.caar, abs=1e-15)


def test_a_halt_still_running_leaves_the_study_halted_and_out_of_the_caar():
    m = market(n=3)
    result = run_event([m.series(0), _with_halts(m, 1, [4, 5, 6], cut=6)], PARAMS)
    s = result.securities[1]
    assert s.status == "halted"
    assert "halted after" in s.reason
    assert result.aggregate.n == 1  # a window still waiting on its halt is not in the tests ...
    assert result.aggregate.sub_windows["[0,3]"].n == 2  # ... but its complete sub-windows are
    assert (
        run_event([m.series(0), _with_halts(m, 1, [4, 5, 6], cut=6)], PARAMS.with_(include_partial=True)).aggregate.n
        == 2
    )
    assert s.sub_windows["[0,3]"].complete is True
    assert s.sub_windows["[0,5]"].complete is False
    assert s.car == pytest.approx(sum(d.ar for d in s.days if d.ar is not None))
    assert [d.halted for d in s.days][-2:] == [True, True]


def test_a_return_ending_on_the_first_day_may_start_before_it():
    m = market(n=3)
    s = run_event([_with_halts(m, 1, [-6])], PARAMS).securities[0]
    first = s.days[0]
    assert first.rel_day == -5
    assert first.sessions == 2
    window = s.sub_windows["[-1,1]"]
    assert (window.first, window.last) == (-1, 1)
    full = run_event([_with_halts(m, 1, [-6])], PARAMS.with_(sub_windows=((-5, 5),))).securities[0]
    assert full.sub_windows["[-5,5]"].first == -6  # reported honestly: the window's returns start on -6


def test_sub_windows_outside_the_event_window_are_skipped():
    m = market(n=2)
    result = run_event(m.all_series(), PARAMS.with_(window=(-1, 1)))
    assert set(result.securities[0].sub_windows) == {"[0,0]", "[0,1]", "[-1,1]"}
    assert set(result.aggregate.sub_windows) == {"[0,0]", "[0,1]", "[-1,1]"}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), halts=st.lists(st.integers(-8, 8), max_size=6))
def test_window_bookkeeping_holds_for_any_halts(seed, halts):
    """Whatever the halts: the CAR is the sum of the ARs shown, its exact variance exceeds the disturbance part
    s²·Σk, a day's AAR counts exactly the securities with an AR that day (a return ending after the window on its
    last day), the daily AARs add up to the CAAR, and nothing non-finite leaks out."""
    m = market(n=4, seed=seed)
    series = m.all_series()
    series[1] = _with_halts(m, 1, sorted(set(halts)))
    result = run_event(series, PARAMS)
    for s in result.securities:
        assert s.status == "complete"
        shown = [d.ar for d in s.days if d.ar is not None]
        assert s.car == pytest.approx(sum(shown), abs=1e-12)
        covered = sum(d.sessions for d in s.days if d.ar is not None)
        assert covered >= 11
        assert s.car_variance > s.sigma**2 * covered
        assert all(d.ar is None for d in s.days if d.halted)
    for day in result.aggregate.aar:

        def ends(d, rel=day.rel_day):
            return d.rel_day == rel or (rel == 5 and d.rel_day > 5)

        count = sum(1 for s in result.securities for d in s.days if ends(d) and d.ar is not None)
        assert day.n == count
    assert sum(d.aar or 0.0 for d in result.aggregate.aar) == pytest.approx(result.aggregate.caar, abs=1e-14)


def test_an_event_without_usable_securities_reports_nothing_quietly():
    m = market(n=2)
    short = m.series(0)
    empty = run_event([], PARAMS.with_(placebo_draws=10))
    assert empty.aggregate.n == 0
    assert empty.aggregate.placebo.note == "no security has a CAR to compare"
    thin = SecuritySeries(
        "THIN", "IDX", short.day0, short.sessions[-30:], short.returns[-30:], short.benchmark_returns[-30:],
        short.spans[-30:], short.halted[-30:],
    )  # fmt: skip
    result = run_event([thin], PARAMS)
    assert result.securities[0].status == "listed_later"  # its history starts after day 0
    assert result.securities[0].reason.startswith("listed after day 0")
    assert result.aggregate.caar is None
    assert all(d.aar is None and d.n == 0 for d in result.aggregate.aar)
