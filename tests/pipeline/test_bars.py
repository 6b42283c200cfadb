"""FinalBars: the shortcut (only the dates around now are judged by the calendar) hides exactly what the
calendar's own rule hides, for any moment and any exchange."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import Settings
from monitor.pipeline.bars import FinalBars
from monitor.prices.calendars import calendars_from_settings

CALENDARS = calendars_from_settings(Settings())
SYMBOLS = {"AMBA": "XNYS", "002415.SZ": "XSHG", "0981.HK": "XHKG"}


class Frames:
    """Daily bars on every calendar day from ``first`` (holidays included: a bar on a non-session is judged too)."""

    def __init__(self, first: date, days: int) -> None:
        index = pd.DatetimeIndex(pd.date_range(first, periods=days, freq="D"), name="date").as_unit("ns")
        self.frame = pd.DataFrame({"adj_close": np.arange(days, dtype=float) + 1, "volume": 1.0}, index=index)

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        return {symbol: self.frame for symbol in symbols}


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2024, 12, 31)),
    st.integers(min_value=0, max_value=600),
)
def test_the_shortcut_agrees_with_the_calendar_everywhere(moment: datetime, margin: int) -> None:
    now = moment.replace(tzinfo=UTC)
    source = Frames(now.date() - timedelta(days=20), 40)
    reader = FinalBars(source, CALENDARS, now=now, margin_minutes=margin)
    shown = reader.bars_many(list(SYMBOLS), None, None)
    for symbol, calendar in SYMBOLS.items():
        expected = CALENDARS.final_mask(calendar, source.frame.index, now, margin)
        assert list(shown[symbol].index) == list(source.frame.index[expected]), (symbol, now, margin)
