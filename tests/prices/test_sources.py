"""CsvDirectorySource on the real bundled prices and on malformed vendor files; source selection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.errors import ConfigError, InputError, NoPriceData
from monitor.prices.calendars import shared_calendars
from monitor.prices.exchanges import listing
from monitor.prices.sources import COLUMNS, CsvDirectorySource, PriceSource, StaticSource
from tests.conftest import SHARED_DATA

PRICES = SHARED_DATA / "prices"

# Every bundled ticker that traded in October 2019 (0020.HK, SenseTime, only listed in 2021).
OCTOBER_2019 = [
    "AMBA", "NVDA", "INTC", "WDC", "STX", "QCOM", "AVGO", "MU", "QRVO", "SWKS", "LITE", "NPTN", "SPY", "SOXX",
    "^GSPC", "^SOX", "002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ", "000300.SS", "000001.SS", "399001.SZ",
    "0981.HK", "0763.HK", "^HSI",
]  # fmt: skip


@pytest.fixture(scope="module")
def source() -> CsvDirectorySource:
    return CsvDirectorySource(PRICES)


@pytest.mark.parametrize("symbol", OCTOBER_2019)
def test_october_2019_tickers_load_with_one_bar_per_session(source: CsvDirectorySource, symbol: str) -> None:
    bars = source.history(symbol, date(2019, 10, 1), date(2019, 10, 31))
    assert list(bars.columns) == list(COLUMNS)
    assert bars.index.name == "date"
    assert bars.index.is_monotonic_increasing
    assert bars["close"].notna().all()
    assert (bars["adj_close"] > 0).all()
    expected = shared_calendars().sessions(listing(symbol).calendar, date(2019, 10, 1), date(2019, 10, 31))
    assert list(bars.index) == list(expected)  # the README promises complete calendars for 2018-2021


def test_hikvision_halt_rows_come_through_as_halts(source: CsvDirectorySource) -> None:
    bars = source.history("002415.SZ", date(2019, 9, 30), date(2019, 10, 10))
    assert list(bars["close"]) == [32.30, 32.30, 32.30, 30.90]  # README: 32.30 (09-30) → 30.90 (10-10)
    assert list(bars["volume"].to_numpy() == 0) == [False, True, True, False]
    assert bars["adj_close"].iloc[-1] / bars["adj_close"].iloc[0] - 1 == pytest.approx(-0.043344, abs=1e-6)


def test_bundled_amba_close_values(source: CsvDirectorySource) -> None:
    bars = source.history("AMBA", date(2019, 10, 4), date(2019, 10, 9))
    assert list(bars["close"].round(2)) == [58.09, 57.22, 51.79, 51.88]  # README sanity check


def test_empty_adj_close_is_derived_from_preclose_like_the_bundled_file(tmp_path: Path) -> None:
    original = pd.read_csv(PRICES / "002415.SZ.csv", dtype=str)
    blanked = original.assign(adj_close="")
    blanked.to_csv(tmp_path / "002415.SZ.csv", index=False)
    derived = CsvDirectorySource(tmp_path).history("002415.SZ")
    expected = original["adj_close"].astype(float).to_numpy()
    np.testing.assert_allclose(derived["adj_close"].to_numpy(), expected, rtol=2e-5)


def test_partly_empty_adj_close_takes_the_next_known_factor(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n"
        "2019-01-02,10,10,10,10,,100\n"  # before the dividend: factor of the next row (0.9)
        "2019-01-03,11,11,11,11,9.9,100\n"
        "2019-01-04,12,12,12,12,12,100\n"
        "2019-01-07,13,13,13,13,,100\n"  # no later factor: the last known one (1.0)
    )
    bars = CsvDirectorySource(tmp_path).history("X")
    assert list(bars["adj_close"]) == pytest.approx([9.0, 9.9, 12.0, 13.0])


def test_no_adj_close_column_and_extra_columns(tmp_path: Path) -> None:
    (tmp_path / "Y.HK.csv").write_text(
        "Date,Volume,Close,Low,High,Open,Note\n2019-10-02,5,9.9,9.7,9.98,9.74,x\n2019-10-03,0,9.92,9.79,10.16,9.8,y\n"
    )
    bars = CsvDirectorySource(tmp_path).history("y.hk")
    assert list(bars["adj_close"]) == [9.9, 9.92]
    assert list(bars["volume"]) == [5.0, 0.0]
    assert list(bars["dividends"]) == [0.0, 0.0]


def test_trade_status_zero_forces_a_halt(tmp_path: Path) -> None:
    (tmp_path / "Z.SZ.csv").write_text(
        "date,open,high,low,close,adj_close,volume,trade_status\n2019-10-08,1,1,1,1,1,500,0\n2019-10-10,1,1,1,1,1,9,1\n"
    )
    assert list(CsvDirectorySource(tmp_path).history("Z.SZ")["volume"]) == [0.0, 9.0]


def test_rows_without_close_are_dropped_and_an_echoed_row_is_kept_once(tmp_path: Path) -> None:
    (tmp_path / "D.csv").write_text(
        "date,open,high,low,close,volume\n2019-10-01,1,1,1,,10\n2019-10-02,1,1,1,2,10\n2019-10-02,1,1,1,2,10\n"
    )
    bars = CsvDirectorySource(tmp_path).history("D")
    assert list(bars.index) == [pd.Timestamp("2019-10-02")]
    assert bars["close"].iloc[0] == 2.0


def test_a_date_with_conflicting_rows_refuses_the_file(tmp_path: Path) -> None:
    """The audit's file: a second 2019-10-08 row with a stale quote made the CAR +4,982% when the last row won."""
    original = pd.read_csv(PRICES / "AMBA.csv", dtype=str)
    at = int(np.flatnonzero(original["date"] == "2019-10-08")[0])
    stale = original.iloc[[at]].assign(close="2.50", adj_close="2.50")
    pd.concat([original.iloc[: at + 1], stale, original.iloc[at + 1 :]]).to_csv(tmp_path / "AMBA.csv", index=False)
    with pytest.raises(InputError, match=r"AMBA\.csv: AMBA has 1 date\(s\) with conflicting rows \(2019-10-08\)"):
        CsvDirectorySource(tmp_path).history("AMBA")


def test_splits_are_applied_when_adjusted_closes_are_absent(tmp_path: Path) -> None:
    """NVDA's 2021 4:1 split written the way a raw-close vendor file has it: closes as traded, the ratio on the
    ex-date, no adj_close. The adjusted return across the split is the real one (NVDA's own adj_close)."""
    real = pd.read_csv(PRICES / "NVDA.csv", index_col="date").loc["2021-07-01":"2021-07-30"]
    split_day = "2021-07-20"
    raw = real[["open", "high", "low", "close", "volume"]].copy()
    before = raw.index < split_day
    raw.loc[before, ["open", "high", "low", "close"]] *= 4  # as traded before the split
    raw["splits"] = np.where(raw.index == split_day, 4.0, 0.0)
    raw.reset_index().to_csv(tmp_path / "NVDA.csv", index=False)
    bars = CsvDirectorySource(tmp_path).history("NVDA")
    ours = bars["adj_close"].pct_change().to_numpy()[1:]
    theirs = real["close"].pct_change().to_numpy()[1:]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert bars["adj_close"].iloc[-1] == real["close"].iloc[-1]

    # Without the splits column the raw closes stay raw: the −75% is left for the return guards to flag.
    raw.drop(columns="splits").reset_index().to_csv(tmp_path / "NVDA.csv", index=False)
    unadjusted = CsvDirectorySource(tmp_path).history("NVDA")["adj_close"]
    assert unadjusted.loc[split_day] / unadjusted.shift(1).loc[split_day] - 1 == pytest.approx(-0.75, abs=0.03)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date,open,high,low,close,volume\n10/02/2019,1,1,1,1,1\n", r"line 2: date '10/02/2019' is not YYYY-MM-DD"),
        ("date,open,high,low,close,volume\n2019-10-02,1,1,1,abc,1\n", r"line 2: close 'abc' is not a number"),
        ("date,open,close,volume\n2019-10-02,1,1,1\n", r"missing column\(s\) \['high', 'low'\]"),
    ],
)
def test_malformed_files_name_the_file_and_the_problem(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "BAD.csv").write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        CsvDirectorySource(tmp_path).history("BAD")
    assert "BAD.csv" in str(caught.value)


def test_missing_symbol_and_directory(tmp_path: Path) -> None:
    with pytest.raises(NoPriceData, match=r"NOPE: no file NOPE\.csv"):
        CsvDirectorySource(tmp_path).history("NOPE")
    with pytest.raises(ConfigError, match="does not exist"):
        CsvDirectorySource(tmp_path / "absent")


def test_sources_satisfy_the_protocol(source: CsvDirectorySource) -> None:
    assert isinstance(source, PriceSource)
    assert isinstance(StaticSource({}), PriceSource)
    assert source.name == f"dir:{PRICES}"
    assert "AMBA" in source.symbols()


def test_static_source_records_calls() -> None:
    frame = pd.DataFrame(
        {c: [1.0, 2.0] for c in COLUMNS}, index=pd.DatetimeIndex(["2019-10-01", "2019-10-02"], name="date")
    )
    static = StaticSource({"amba": frame})
    assert len(static.history("AMBA", start=date(2019, 10, 2))) == 1
    assert static.calls == [("AMBA", date(2019, 10, 2), None)]
    with pytest.raises(NoPriceData):
        static.history("MU")
