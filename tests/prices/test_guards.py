"""Price guards: bad prices are not halts, lone spikes are stepped over, returns beyond the limit are suspect.

Inputs are the real bundled files (AMBA, Hikvision, ChiNext's Meiya Pico), each with one defect written in the way
a broken vendor file has it; the expected returns come straight from the file's closes.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from monitor.prices.calendars import shared_calendars
from monitor.prices.exchanges import listing
from monitor.prices.limits import a_share_limit
from monitor.prices.returns import BAD_PRICE, HALTED, SUSPECT, TRADED, returns_panel
from monitor.prices.sources import CsvDirectorySource
from tests.conftest import SHARED_DATA

SOURCE = CsvDirectorySource(SHARED_DATA / "prices")
BOUND = 1.0  # the default for markets without limits: above +100% or below −50% in one session


def _panel(symbol: str, frame: pd.DataFrame, start: date, end: date):
    sessions = shared_calendars().sessions(listing(symbol).calendar, start, end)
    return returns_panel({symbol: frame}, sessions, move_bound=BOUND), sessions


def _row(sessions: pd.DatetimeIndex, day: str) -> int:
    return int(sessions.get_loc(pd.Timestamp(day)))


@pytest.mark.parametrize("price", [0.0, -3.0, np.nan])
def test_a_zero_negative_or_missing_close_is_a_bad_price_not_a_halt(price: float) -> None:
    frame = SOURCE.history("AMBA", date(2019, 9, 1), date(2019, 10, 31)).copy()
    frame.loc["2019-10-03", ["close", "adj_close"]] = price
    panel, sessions = _panel("AMBA", frame, date(2019, 9, 3), date(2019, 10, 31))
    at = _row(sessions, "2019-10-03")
    assert panel.status[at, 0] == BAD_PRICE
    assert not panel.halted[at, 0]
    closes = frame["adj_close"]
    assert panel.returns[at + 1, 0] == pytest.approx(closes.loc["2019-10-04"] / closes.loc["2019-10-02"] - 1)
    assert panel.spans[at + 1, 0] == 2


def test_a_hundredfold_spike_is_stepped_over() -> None:
    """The audit's spike: one close ×100 gave β −26 and a CAR of −433%."""
    frame = SOURCE.history("AMBA", date(2019, 6, 1), date(2019, 10, 31)).copy()
    frame.loc["2019-08-15", ["close", "adj_close"]] *= 100
    panel, sessions = _panel("AMBA", frame, date(2019, 6, 3), date(2019, 10, 31))
    at = _row(sessions, "2019-08-15")
    assert panel.status[at, 0] == BAD_PRICE
    closes = frame["adj_close"]
    assert panel.returns[at + 1, 0] == pytest.approx(closes.loc["2019-08-16"] / closes.loc["2019-08-14"] - 1)
    assert not (panel.status == SUSPECT).any()
    assert np.nanmax(np.abs(panel.returns)) < 0.2


def test_an_unadjusted_split_is_suspect() -> None:
    frame = SOURCE.history("NVDA", date(2021, 6, 1), date(2021, 8, 31)).copy()
    before = frame.index < "2021-07-20"
    frame.loc[before, ["close", "adj_close"]] *= 4  # raw closes, the 4:1 split of 2021-07-20 not applied
    panel, sessions = _panel("NVDA", frame, date(2021, 6, 1), date(2021, 8, 31))
    at = _row(sessions, "2021-07-20")
    assert panel.status[at, 0] == SUSPECT
    assert panel.returns[at, 0] == pytest.approx(-0.75, abs=0.03)  # kept, flagged: the study decides its use
    assert (panel.status[:, 0] == SUSPECT).sum() == 1


def test_a_shares_are_held_to_their_boards_limit() -> None:
    frame = SOURCE.history("002415.SZ", date(2019, 9, 1), date(2019, 10, 31)).copy()
    frame.loc["2019-09-20":, ["close", "adj_close"]] *= 1.12  # +12% on one day: past the main board's 10%
    panel, sessions = _panel("002415.SZ", frame, date(2019, 9, 2), date(2019, 10, 31))
    at = _row(sessions, "2019-09-20")
    assert panel.status[at, 0] == SUSPECT
    assert panel.status[_row(sessions, "2019-10-08"), 0] == HALTED  # the real halt is still a halt
    assert a_share_limit("300188.SZ", date(2020, 8, 21)) == 0.10
    assert a_share_limit("300188.SZ", date(2020, 8, 24)) == 0.20
    assert a_share_limit("688981.SS", date(2020, 7, 16)) == 0.20
    assert a_share_limit("0981.HK", date(2020, 7, 16)) is None


@pytest.mark.parametrize("symbol", ["AMBA", "NVDA", "NPTN", "0981.HK", "0763.HK", "002415.SZ", "300188.SZ", "^GSPC"])
def test_the_real_files_raise_no_flag(symbol: str) -> None:
    """No false alarms on the real histories (ChiNext's first +20% days, ZTE's −41.6% resumption, SMIC's +74%)."""
    frame = SOURCE.history(symbol)
    first, last = frame.index[0].date(), frame.index[-1].date()
    panel, _ = _panel(symbol, frame, max(first, date(2010, 1, 4)), last)
    flagged = np.isin(panel.status[:, 0], (SUSPECT, BAD_PRICE))
    assert not flagged.any(), panel.sessions[flagged][:5]
    assert (panel.status[:, 0] == TRADED).sum() > 1000
