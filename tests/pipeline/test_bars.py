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
from monitor.pipeline.bars import FinalBars, History
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


class Histories(Frames):
    """The same bars as array histories too (what the backfill's cache keeps)."""

    def histories(self, symbols: Iterable[str]) -> dict[str, History]:
        values = self.frame.to_numpy(dtype="float64")
        return {symbol: History(self.frame.index.asi8, values[:, 0].copy(), values[:, 1].copy()) for symbol in symbols}


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2024, 12, 31)),
    st.integers(min_value=0, max_value=600),
    st.integers(min_value=0, max_value=39),
    st.integers(min_value=0, max_value=39),
)
def test_visible_positions_are_the_bars_the_frames_show(moment: datetime, margin: int, skip: int, keep: int) -> None:
    now = moment.replace(tzinfo=UTC)
    source = Histories(now.date() - timedelta(days=20), 40)
    start = source.frame.index[min(skip, keep)].date()
    end = source.frame.index[max(skip, keep)].date()
    reader = FinalBars(source, CALENDARS, now=now, margin_minutes=margin)
    frames = FinalBars(source, CALENDARS, now=now, margin_minutes=margin).bars_many(list(SYMBOLS), start, end)
    visible = reader.visible(list(SYMBOLS), start, end)
    assert visible is not None
    for symbol in SYMBOLS:
        shown = frames[symbol][(frames[symbol].index >= pd.Timestamp(start))]
        shown = shown[shown.index <= pd.Timestamp(end)]
        assert list(visible[symbol].dates) == list(shown.index.asi8), (symbol, now, margin, start, end)
        np.testing.assert_array_equal(visible[symbol].close, shown["adj_close"].to_numpy())


def test_visible_is_none_without_histories_or_when_final_bars_are_not_one_run() -> None:
    now = datetime(2019, 10, 9, 12, tzinfo=UTC)
    plain = FinalBars(Frames(date(2019, 9, 20), 30), CALENDARS, now=now, margin_minutes=30)
    assert plain.visible(["AMBA"], date(2019, 9, 20), date(2019, 10, 19)) is None

    class Judged(Histories):  # a calendar that calls an earlier date unfinished and a later one final
        pass

    class Odd:
        def final_mask(self, name: str, dates: pd.DatetimeIndex, now: datetime, margin: int) -> np.ndarray:
            return np.arange(len(dates)) % 2 == 1

    odd = FinalBars(Judged(date(2019, 9, 20), 30), Odd(), now=now, margin_minutes=30)  # type: ignore[arg-type]
    assert odd.visible(["AMBA"], date(2019, 9, 20), date(2019, 10, 19)) is None
    assert len(odd.bars_many(["AMBA"], date(2019, 9, 20), date(2019, 10, 19))["AMBA"]) > 0  # frames still say it
