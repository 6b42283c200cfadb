"""Trade-to-trade returns: the real October 2019 halts, synthetic edge cases, and properties over random paths."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.prices.calendars import shared_calendars
from monitor.prices.returns import HALTED, NO_DATA, TRADED, compound_over_spans, returns_panel, session_returns
from monitor.prices.sources import COLUMNS, CsvDirectorySource
from tests.conftest import SHARED_DATA

SOURCE = CsvDirectorySource(SHARED_DATA / "prices")


def xshg(start: date, end: date) -> pd.DatetimeIndex:
    return shared_calendars().sessions("XSHG", start, end)


def bars(dates: list[str], prices: list[float], volumes: list[float] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({column: np.nan for column in COLUMNS}, index=pd.DatetimeIndex(dates, name="date"))
    frame["adj_close"] = prices
    frame["close"] = prices
    frame["volume"] = volumes if volumes is not None else [1000.0] * len(dates)
    return frame


@pytest.mark.parametrize(("symbol", "expected"), [("002415.SZ", -0.043344), ("002236.SZ", -0.057904)])
def test_hikvision_and_dahua_halts_and_trade_to_trade_return(symbol: str, expected: float) -> None:
    sessions = xshg(date(2019, 9, 23), date(2019, 10, 14))
    result = session_returns(SOURCE.history(symbol), sessions, symbol=symbol)
    assert list(result.index[result["halted"]]) == [pd.Timestamp("2019-10-08"), pd.Timestamp("2019-10-09")]
    assert result.loc["2019-10-08":"2019-10-09", "ret"].isna().all()  # never a zero return
    first_traded = result.loc["2019-10-08":].query("status == 'traded'").index[0]
    assert first_traded == pd.Timestamp("2019-10-10")
    row = result.loc["2019-10-10"]
    assert row["ret"] == pytest.approx(expected, abs=1e-6)  # the exchange's pct_chg for 10-10 (README)
    assert row["span"] == 3
    assert row["prev_session"] == pd.Timestamp("2019-09-30")
    assert result.loc["2019-10-11", "span"] == 1


def test_iflytek_kept_trading() -> None:
    result = session_returns(
        SOURCE.history("002230.SZ"), xshg(date(2019, 9, 27), date(2019, 10, 9)), symbol="002230.SZ"
    )
    assert not result["halted"].any()
    assert result.loc["2019-10-08", "ret"] == pytest.approx(31.01 / 31.86 - 1, abs=1e-4)  # README: −2.67 %


def test_amba_day0_return_and_golden_week_is_one_xshg_step() -> None:
    sessions = shared_calendars().sessions("XNYS", date(2019, 10, 1), date(2019, 10, 9))
    amba = session_returns(SOURCE.history("AMBA"), sessions, symbol="AMBA")
    assert amba.loc["2019-10-08", "ret"] == pytest.approx(51.790001 / 57.220001 - 1, rel=1e-9)
    csi = session_returns(SOURCE.history("000300.SS"), xshg(date(2019, 9, 27), date(2019, 10, 9)), symbol="000300.SS")
    assert csi.loc["2019-10-08", "span"] == 1  # 09-30 → 10-08 is adjacent on the exchange's own calendar
    assert csi.loc["2019-10-08", "ret"] == pytest.approx(3837.68 / 3814.53 - 1, abs=1e-5)


def test_index_zero_volume_is_not_a_halt() -> None:
    sessions = shared_calendars().sessions("XNYS", date(2019, 10, 1), date(2019, 10, 31))
    sox = session_returns(SOURCE.history("^SOX"), sessions, symbol="^SOX")
    assert (sox["volume"] == 0).all()
    assert not sox["halted"].any()
    forced = session_returns(SOURCE.history("^SOX"), sessions, zero_volume_is_halt=True)
    assert forced["halted"].iloc[1:].all()


def test_missing_bar_is_a_halt_but_before_listing_and_after_the_data_is_no_data() -> None:
    sessions = xshg(date(2019, 9, 23), date(2019, 10, 11))  # 23..27, 30, 10-08..11: 10 sessions
    frame = bars(["2019-09-25", "2019-09-26", "2019-09-30", "2019-10-09"], [10.0, 11.0, 12.1, 12.1])
    result = session_returns(frame, sessions)
    status = dict(zip(result.index.strftime("%m-%d"), result["status"].astype(str), strict=True))
    assert status == {
        "09-23": "no_data", "09-24": "no_data", "09-25": "traded", "09-26": "traded", "09-27": "halted",
        "09-30": "traded", "10-08": "halted", "10-09": "traded", "10-10": "no_data", "10-11": "no_data",
    }  # fmt: skip
    assert result.loc["2019-09-30", "ret"] == pytest.approx(0.1)
    assert result.loc["2019-09-30", "span"] == 2
    assert result.loc["2019-10-09", "ret"] == 0.0
    assert result.loc["2019-10-09", "span"] == 2
    extended = session_returns(frame, sessions, through=date(2019, 10, 11))
    assert list(extended.loc["2019-10-10":, "status"].astype(str)) == ["halted", "halted"]


def test_bars_off_the_calendar_are_ignored() -> None:
    sessions = xshg(date(2019, 9, 30), date(2019, 10, 8))
    frame = bars(["2019-09-30", "2019-10-01", "2019-10-08"], [10.0, 99.0, 11.0])  # 10-01 is a holiday
    result = session_returns(frame, sessions)
    assert list(result.index) == [pd.Timestamp("2019-09-30"), pd.Timestamp("2019-10-08")]
    assert result.loc["2019-10-08", "ret"] == pytest.approx(0.1)


def test_panel_columns_and_through_per_security() -> None:
    sessions = xshg(date(2019, 9, 23), date(2019, 9, 27))
    a = bars(["2019-09-23", "2019-09-24"], [1.0, 2.0])
    b = bars(["2019-09-23", "2019-09-27"], [4.0, 2.0], [5.0, 5.0])
    panel = returns_panel({"A": a, "B": b}, sessions, through=[date(2019, 9, 26), None])
    assert panel.symbols == ("A", "B")
    assert panel.frame("status")["A"].tolist() == [TRADED, TRADED, HALTED, HALTED, NO_DATA]
    assert panel.frame("status")["B"].tolist() == [TRADED, HALTED, HALTED, HALTED, TRADED]
    assert panel.frame("spans")["B"].tolist() == [0, 0, 0, 0, 4]
    assert panel.frame("returns")["B"].iloc[-1] == pytest.approx(-0.5)
    assert panel.halted.sum() == 5
    with pytest.raises(ValueError, match="through has 1 dates for 2"):
        returns_panel({"A": a, "B": b}, sessions, through=[None])


def test_compound_over_spans_uses_the_benchmark_levels_at_both_ends() -> None:
    levels = np.array([100.0, 101.0, 99.0, np.nan, 104.0])
    spans = np.array([0, 1, 1, 0, 2])
    out = compound_over_spans(levels, spans)
    assert np.isnan(out[0])
    assert np.isnan(out[3])
    assert out[1] == pytest.approx(0.01)
    assert out[4] == pytest.approx(104 / 99 - 1)
    gap = compound_over_spans(levels, np.array([0, 1, 1, 1, 1]))
    assert np.isnan(gap[3])
    assert np.isnan(gap[4])
    wide = compound_over_spans(pd.Series(levels), np.column_stack([spans, spans]))
    assert wide.shape == (5, 2)
    with pytest.raises(ValueError, match="same T sessions"):
        compound_over_spans(levels, np.array([1, 2]))


@st.composite
def paths(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = draw(st.integers(min_value=1, max_value=60))
    prices = np.array(draw(st.lists(st.floats(0.5, 500.0), min_size=count, max_size=count)))
    present = np.array(draw(st.lists(st.booleans(), min_size=count, max_size=count)))
    zero = np.array(draw(st.lists(st.booleans(), min_size=count, max_size=count)))
    return prices, present, zero


@settings(max_examples=80, deadline=None)
@given(paths())
def test_trade_to_trade_returns_chain_to_the_whole_move(path: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    prices, present, zero = path
    sessions = pd.bdate_range("2019-01-01", periods=len(prices), name="date")
    frame = bars(
        list(sessions[present].strftime("%Y-%m-%d")), list(prices[present]), list(np.where(zero, 0.0, 7.0)[present])
    )
    result = session_returns(frame, sessions)
    traded = present & ~zero
    assert (result["status"] == "traded").to_numpy().tolist() == traded.tolist()
    assert result.loc[~traded, "ret"].isna().all()
    assert (result.loc[~traded, "span"] == 0).all()
    positions = np.flatnonzero(traded)
    if len(positions) >= 2:
        chained = np.prod(1.0 + result["ret"].dropna().to_numpy())
        assert chained == pytest.approx(prices[positions[-1]] / prices[positions[0]], rel=1e-9)
        assert int(result["span"].sum()) == positions[-1] - positions[0]
        assert result["ret"].notna().sum() == len(positions) - 1
    else:
        assert result["ret"].isna().all()


@settings(max_examples=30, deadline=None)
@given(st.lists(paths(), min_size=1, max_size=5))
def test_panel_equals_each_security_alone(many: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    count = max(len(prices) for prices, _, _ in many)
    sessions = pd.bdate_range("2019-01-01", periods=count, name="date")
    frames = {}
    for number, (prices, present, zero) in enumerate(many):
        days = sessions[: len(prices)][present]
        frames[f"S{number}"] = bars(
            list(days.strftime("%Y-%m-%d")), list(prices[present]), list(np.where(zero, 0.0, 1.0)[present])
        )
    panel = returns_panel(frames, sessions)
    for column, (symbol, frame) in enumerate(frames.items()):
        alone = session_returns(frame, sessions, symbol=symbol)
        np.testing.assert_array_equal(panel.returns[:, column], alone["ret"].to_numpy())
        np.testing.assert_array_equal(panel.spans[:, column], alone["span"].to_numpy())
