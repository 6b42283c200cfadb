"""Status words that tell the truth: bad prices, benchmark gaps, delistings, late listings and suspect returns."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from monitor.models import DayStatus
from monitor.prices.returns import BAD_PRICE, SUSPECT
from monitor.study import SecuritySeries, StudyParams, run_event
from tests.study._synthetic import as_date, market

PARAMS = StudyParams()


def _series(m, i: int, status: np.ndarray | None = None, cut: int | None = None, **dates) -> SecuritySeries:
    end = len(m.sessions) if cut is None else m.e + cut + 1
    closes = m.closes(i)[:end].copy()
    codes = None if status is None else status[:end]
    if codes is not None:
        closes[codes == BAD_PRICE] = np.nan  # what returns_panel leaves for a bad price
    return SecuritySeries.from_closes(f"S{i:03d}", "IDX", m.day0, m.sessions[:end], closes,
                                      m.benchmark_closes()[:end], status=codes, **dates)  # fmt: skip


def test_a_bad_price_is_labelled_as_such_and_stepped_over():
    m = market(n=3)
    codes = np.zeros(len(m.sessions), dtype=np.int8)
    codes[m.e + 2] = BAD_PRICE
    s = run_event([m.series(0), _series(m, 1, codes)], PARAMS).securities[1]
    day = {d.rel_day: d for d in s.days}
    assert (day[2].status, day[2].halted, day[2].ar) == ("bad_price", False, None)
    assert day[3].sessions == 2
    assert s.status == "complete"


def test_a_benchmark_gap_is_not_a_halt():
    m = market(n=2)
    bench = m.benchmark_closes().copy()
    bench[m.e + 1] = np.nan
    s = SecuritySeries.from_closes("G", "IDX", m.day0, m.sessions, m.closes(1), bench)
    day = {d.rel_day: d for d in run_event([s], PARAMS).securities[0].days}
    assert (day[1].status, day[1].halted) == (DayStatus.BENCHMARK_GAP.value, False)
    assert day[2].sessions == 2


def test_a_suspect_return_in_the_window_keeps_the_security_out_of_the_caar():
    """An unadjusted 4:1 split inside the window: the audit's AR of −77.9% (t −36.5), now flagged, not pooled."""
    m = market(n=6)
    closes = m.closes(2).copy()
    closes[: m.e + 1] *= 4  # raw closes before a split on day +1
    codes = np.zeros(len(m.sessions), dtype=np.int8)
    codes[m.e + 1] = SUSPECT
    split = SecuritySeries.from_closes("SPLIT", "IDX", m.day0, m.sessions, closes, m.benchmark_closes(), status=codes)
    result = run_event([*m.all_series()[:2], split, *m.all_series()[3:]], PARAMS)
    s = result.securities[2]
    assert s.status == "bad_price"
    assert "beyond the exchange's daily limit" in s.reason
    assert next(d for d in s.days if d.rel_day == 1).status == "suspect"
    assert result.aggregate.n == 5
    # Suspect returns in the estimation window are left out of the fit instead.
    codes = np.zeros(len(m.sessions), dtype=np.int8)
    codes[m.e - 100] = SUSPECT
    early = SecuritySeries.from_closes("E", "IDX", m.day0, m.sessions, m.closes(2), m.benchmark_closes(), status=codes)
    fitted = run_event([early], PARAMS).securities[0]
    assert (fitted.status, fitted.n_estimation) == ("complete", 249)


def test_delisted_and_listed_later():
    m = market(n=4)
    gone = _series(m, 1, cut=2, delisted_on=as_date(m.sessions[m.e + 3]))
    late = _series(m, 2, listed_on=as_date(m.sessions[m.e + 3]))
    result = run_event([m.series(0), gone, late, m.series(3)], PARAMS)
    by = {s.symbol: s for s in result.securities}
    assert by["S001"].status == "delisted"
    assert by["S001"].reason.startswith("delisted: no bars after")
    assert by["S002"].status == "listed_later"
    assert result.aggregate.n == 2
    # A delisting after the window is no reason: the window is just still running.
    later = _series(m, 1, cut=2, delisted_on=as_date(m.sessions[m.e] + np.timedelta64(90, "D")))
    assert run_event([later], PARAMS).securities[0].status == "partial"


def test_a_halt_running_at_the_end_of_the_data_is_halted_not_partial():
    m = market(n=2)
    halted = np.zeros(len(m.sessions), dtype=bool)
    halted[m.e + 1 : m.e + 4] = True
    s = SecuritySeries.from_closes("H", "IDX", m.day0, m.sessions[: m.e + 4], m.closes(1)[: m.e + 4],
                                   m.benchmark_closes()[: m.e + 4], halted[: m.e + 4])  # fmt: skip
    out = run_event([s], PARAMS).securities[0]
    assert out.status == "halted"
    assert (
        out.reason
        == f"halted after {as_date(m.sessions[m.e])} while its market trades; the window completes when it trades again"
    )


def test_two_securities_print_n_too_small():
    """The audit's KP t of −64.5 on two securities: now flagged as n too small (the minimum is 5 by default)."""
    m = market(n=2, common=0.9)
    tests = run_event(m.all_series(), PARAMS).aggregate.tests
    assert tests.n == 2
    assert tests.n_too_small
    assert not run_event(market(n=5).all_series(), PARAMS).aggregate.tests.n_too_small
    assert run_event(m.all_series(), PARAMS.with_(min_securities=2)).aggregate.tests.n_too_small is False


@pytest.mark.parametrize("days", [1, 40])
def test_listed_on_after_day0_by_days(days):
    m = market(n=1)
    s = _series(m, 0, listed_on=m.day0 + timedelta(days=days))
    assert run_event([s], PARAMS).securities[0].status == "listed_later"


def test_a_halted_study_stays_open_and_bad_data_is_retried():
    """A study waiting on a halt must keep being updated (it was dropped when only pending/partial were open)."""
    from monitor.pipeline import OPEN_STUDY, RETRY_STUDY
    from monitor.pipeline.event_rows import OPEN_STUDY as SCHEDULED  # the calendars the daemon refreshes

    assert "halted" in OPEN_STUDY
    assert "halted" in SCHEDULED
    assert {"bad_price", "benchmark_gap"} <= set(RETRY_STUDY)
