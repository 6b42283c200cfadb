"""Cross-sectional dependence on two exchange calendars: residuals are paired by calendar date, not by event time.

The panel is synthetic: one date axis of weekdays with a common residual shock per date, a "US" calendar that trades
every weekday and a "Shenzhen" calendar closed for a Golden-Week-like block just before day 0 and a few other days.
Both markets' day 0 is the same date, so a Shenzhen stock's event-time row −k is a different date from a US stock's
row −k for every row before the holiday block. The expected r̄, portfolio σ and tests come from an independent
computation: per-security OLS with ``np.linalg.lstsq`` on its own sessions, residuals joined on dates in pandas,
pairwise-complete ``DataFrame.corr``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.study import SecuritySeries, StudyParams, run_event
from tests.study._synthetic import weekdays

PARAMS = StudyParams()  # market model, L1 = 250, gap 10, window [-5, 5]


def _panel(seed: int = 11) -> list[SecuritySeries]:
    rng = np.random.default_rng(seed)
    dates = weekdays("2018-01-01", 420)
    e = 400  # day 0's position on the weekday axis
    common = rng.normal(0.0, 0.02, len(dates))  # the news both markets react to on the same date
    closed = np.zeros(len(dates), dtype=bool)
    closed[e - 5 : e] = True  # a holiday block right before day 0
    closed[[e - 120, e - 200, e - 201, e - 260]] = True  # and a few scattered holidays
    markets = {"US": (np.ones(len(dates), dtype=bool), rng.normal(0.0004, 0.01, len(dates))),
               "CN": (~closed, rng.normal(0.0002, 0.012, len(dates)))}  # fmt: skip
    series: list[SecuritySeries] = []
    for i in range(8):
        market = "US" if i < 4 else "CN"
        open_, rm = markets[market]
        ret = 0.0003 + rng.uniform(0.6, 1.5) * rm + 0.8 * common + rng.normal(0.0, 0.02, len(dates))
        sessions, r, b = dates[open_], ret[open_].copy(), rm[open_].copy()
        r[0] = b[0] = np.nan
        spans = np.ones(len(sessions), dtype=np.int64)
        spans[0] = 0
        halted = np.zeros(len(sessions), dtype=bool)
        series.append(
            SecuritySeries(f"{market}{i}", f"IDX-{market}", dates[e].astype(object), sessions, r, b, spans, halted)
        )
    return series


def _independent_residuals(series: list[SecuritySeries]) -> tuple[pd.DataFrame, pd.Series]:
    """Each security's market-model residuals over its own estimation sessions [-265,-16], indexed by date, and its
    event-window CAR over [-5,5]."""
    columns: dict[str, pd.Series] = {}
    cars: dict[str, float] = {}
    for s in series:
        at = int(np.flatnonzero(s.sessions == np.datetime64(s.day0))[0])
        est = slice(at - 265, at - 15)
        X = np.column_stack([np.ones(250), s.benchmark_returns[est]])
        theta, *_ = np.linalg.lstsq(X, s.returns[est], rcond=None)
        columns[s.symbol] = pd.Series(s.returns[est] - X @ theta, index=pd.DatetimeIndex(s.sessions[est]))
        evt = slice(at - 5, at + 6)
        cars[s.symbol] = float((s.returns[evt] - theta[0] - theta[1] * s.benchmark_returns[evt]).sum())
    return pd.DataFrame(columns), pd.Series(cars)


def test_two_calendar_dependence_is_estimated_on_the_same_dates():
    series = _panel()
    result = run_event(series, PARAMS)
    tests = result.aggregate.tests
    assert tests.n == 8

    by_date, cars = _independent_residuals(series)
    corr = by_date.corr(min_periods=3).to_numpy()
    n = corr.shape[0]
    rbar = (np.nansum(corr) - n) / (n * (n - 1))
    assert tests.mean_residual_correlation == pytest.approx(rbar, rel=1e-9)

    portfolio = by_date.mean(axis=1, skipna=True)
    sd = portfolio.std(ddof=1)
    assert tests.portfolio_t.value == pytest.approx(cars.mean() / (sd * np.sqrt(11)), rel=1e-9)
    assert tests.portfolio_t.df == len(portfolio) - 1  # one row per date either market traded
    kp = tests.bmp_t.value * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    assert tests.kp_bmp_t.value == pytest.approx(kp, rel=1e-9)

    # Pairing by event time instead (row −k of each security) sees far less correlation: the bug this fixes.
    by_row = pd.DataFrame({c: by_date[c].dropna().to_numpy() for c in by_date.columns})
    c_row = by_row.corr().to_numpy()
    assert rbar - (c_row.sum() - n) / (n * (n - 1)) > 0.1


def test_one_calendar_rows_are_already_dates():
    """The re-laying is the identity when every security shares the calendar and day 0."""
    from monitor.study.statistics import by_date

    series = _panel()
    us = [s for s in series if s.symbol.startswith("US")]
    values = np.column_stack([s.returns[-300:] for s in us])
    dates = np.column_stack([s.sessions[-300:] for s in us])
    assert by_date(values, dates) is values


def test_amba_and_hikvision_correlate_on_the_same_dates():
    """Real prices, October 2019: the audit's same-date AMBA–Hikvision residual correlation is 0.217 (0.040 when
    rows were paired by event time across Golden Week)."""
    from monitor.pipeline.bars import SourceBars
    from monitor.pipeline.studies import EventTime, Subject, run
    from monitor.prices.calendars import shared_calendars
    from monitor.prices.sources import CsvDirectorySource
    from tests.paths import SHARED_DATA

    bars = SourceBars(CsvDirectorySource(SHARED_DATA / "prices"))
    when = EventTime.parse("2019-10-07T20:30:00Z")
    study = run([Subject("AMBA"), Subject("002415.SZ")], when, PARAMS, bars, shared_calendars())
    assert study.result.aggregate.tests.mean_residual_correlation == pytest.approx(0.217, abs=5e-4)
