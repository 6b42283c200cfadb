"""An A-share event in February 2027, past exchange-calendars' XSHG data, studied on the provisional calendar.

The prices are synthetic (labelled so): a CSI 300 stand-in and five Shenzhen shares following a market model,
with bars on the days the mainland exchanges were open. exchange-calendars' XSHG holidays stop at 2026-12-31; 2027
comes from the ``holidays`` package (Spring Festival: the eve Fri 02-05 and Mon-Wed 02-08..10 closed). The index
here also stays shut on Thu 02-11 and Fri 02-12, as SSE's own notice usually keeps the whole festival week closed:
its bars must correct the provisional calendar, moving day 0 of an announcement on Thu 02-04 after the close
from Thu 02-11 to Mon 02-15.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from monitor.pipeline.bars import SourceBars
from monitor.pipeline.studies import Subject, run
from monitor.prices.calendars import Calendars
from monitor.prices.sources import COLUMNS, StaticSource
from monitor.study import StudyParams

SHARES = ["000001.SZ", "000002.SZ", "000063.SZ", "002415.SZ", "002236.SZ"]


def _frames(sessions: pd.DatetimeIndex) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(2027)
    market = rng.normal(0.0003, 0.012, len(sessions))
    frames = {}
    for i, symbol in enumerate(["000300.SS", *SHARES]):
        ret = market if i == 0 else 0.0002 + rng.uniform(0.7, 1.3) * market + rng.normal(0, 0.018, len(sessions))
        close = 10.0 * np.cumprod(1 + np.clip(ret, -0.095, 0.095))
        frame = pd.DataFrame({c: close for c in COLUMNS}, index=pd.DatetimeIndex(sessions, name="date"))
        frame["volume"] = 1e6
        frame["dividends"] = frame["splits"] = 0.0
        frames[symbol] = frame
    return frames


def test_an_a_share_event_in_february_2027_on_the_provisional_calendar() -> None:
    calendars = Calendars(today=date(2027, 3, 31))
    truth = calendars.sessions("XSHG", date(2025, 6, 2), date(2027, 3, 31))
    truth = truth[~truth.isin(pd.DatetimeIndex(["2027-02-11", "2027-02-12"]))]
    bars = SourceBars(StaticSource(_frames(truth)))
    announced = datetime(2027, 2, 4, 8, 0, tzinfo=UTC)  # after Shanghai's 15:00 close on Thu 02-04

    study = run([Subject(s) for s in SHARES], announced, StudyParams(), bars, calendars)

    body = study.to_dict()
    assert body["provisional_calendars"]["XSHG"]["from"] == "2027-01-01"
    for security in study.result.securities:
        assert security.status == "complete", security.reason
        assert security.day0 == date(2027, 2, 15)
        days = {d.rel_day: d for d in security.days}
        assert days[-1].date == date(2027, 2, 4)  # the festival is no session: one step (§1.7's closure rule)
        assert days[0].sessions == 1
        assert not any(d.halted for d in security.days)
        assert security.n_estimation == 250
    assert study.result.aggregate.n == 5
