"""The backfill's bar cache returns exactly the stored bars a study reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.backfill.bars import STUDY_COLUMNS, CachedStoreBars
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.pipeline.bars import FinalBars
from monitor.pipeline.studies import EventTime, Subject, prepare
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from monitor.prices.store import PriceStore, read_bars_many
from monitor.study import SecurityResult, SecuritySeries, StudyParams


def test_the_cache_is_the_store(sessions: sessionmaker[Session], tmp_path: Path, trimmed_prices: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store = PriceStore.from_settings(sessions, settings, clock=SimulatedClock(datetime(2021, 1, 4, tzinfo=UTC)))
    symbols = ["002415.SZ", "AMBA", "^GSPC"]
    assert {r.status for r in store.refresh_many(symbols, CsvDirectorySource(trimmed_prices))} == {"ok"}
    cache = CachedStoreBars(sessions)
    start, end = date(2019, 1, 1), date(2019, 12, 31)
    got = cache.bars_many([*symbols, "NOPE"], start, end)
    with sessions() as session:
        expected = read_bars_many(session, symbols, start, end)
    for symbol in symbols:
        assert list(got[symbol].columns) == list(STUDY_COLUMNS)
        assert got[symbol].index.equals(expected[symbol].index)
        for column in STUDY_COLUMNS:
            np.testing.assert_array_equal(got[symbol][column].to_numpy(), expected[symbol][column].to_numpy())
    halted = got["002415.SZ"].loc["2019-10-08"]
    assert halted["volume"] == 0  # the suspension survives: a halt, not a missing bar
    assert got["NOPE"].empty
    assert cache.cached == 4
    one_day = cache.bars_many(["AMBA"], date(2019, 10, 8), date(2019, 10, 8))["AMBA"]
    assert one_day["adj_close"].iloc[0] == pytest.approx(expected["AMBA"].loc["2019-10-08", "adj_close"])


class FramesOnly:
    """The same cache seen only through frames: the path every other caller of a study takes."""

    def __init__(self, inner: CachedStoreBars) -> None:
        self.inner = inner

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        return self.inner.bars_many(symbols, start, end)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2019, 10, 11, 21, tzinfo=UTC),  # inside the window: later bars hidden, Hikvision back from its halt
        datetime(2019, 10, 16, 9, tzinfo=UTC),  # mainland closed for the window, New York not yet
        datetime(2019, 11, 30, tzinfo=UTC),  # long after
    ],
)
def test_studies_read_from_array_histories_exactly_as_from_frames(
    sessions: sessionmaker[Session], tmp_path: Path, trimmed_prices: Path, now: datetime
) -> None:
    settings = Settings(data_dir=tmp_path)
    calendars = calendars_from_settings(settings)
    store = PriceStore.from_settings(sessions, settings, clock=SimulatedClock(datetime(2021, 1, 4, tzinfo=UTC)))
    symbols = ["002415.SZ", "002236.SZ", "AMBA", "NVDA", "0981.HK", "^GSPC", "000300.SS", "^HSI"]
    assert {r.status for r in store.refresh_many(symbols, CsvDirectorySource(trimmed_prices))} == {"ok"}
    subjects = [Subject(s) for s in symbols[:5]] + [Subject("AMBA2"), Subject("300188.SZ")]  # no prices: stubs
    subjects.append(Subject("NVDA", earlier_day0s=(date(2019, 5, 16),)))  # twice: the second is ignored
    cache = CachedStoreBars(sessions)
    when = EventTime.parse("2019-10-07T20:30:00Z")
    params = StudyParams()

    def prepared(reader: object) -> tuple[list[SecuritySeries], dict[str, SecurityResult]]:
        final = FinalBars(reader, calendars, now=now, margin_minutes=30)  # type: ignore[arg-type]
        return prepare(subjects, when, params, final, calendars)

    assert FinalBars(cache, calendars, now=now, margin_minutes=30).visible(symbols, date(2018, 1, 1), date(2020, 1, 1))
    arrays, array_stubs = prepared(cache)
    frames, frame_stubs = prepared(FramesOnly(cache))
    assert array_stubs == frame_stubs
    assert [s.symbol for s in arrays] == [s.symbol for s in frames]
    assert {s.symbol for s in arrays} == {"AMBA", "NVDA", "002415.SZ", "002236.SZ", "0981.HK"}
    for got, expected in zip(arrays, frames, strict=True):
        assert (got.benchmark, got.day0, got.listed_on, got.delisted_on) == (
            expected.benchmark, expected.day0, expected.listed_on, expected.delisted_on,
        )  # fmt: skip
        for name in ("sessions", "returns", "benchmark_returns", "benchmark_sums", "spans", "halted", "status",
                     "excluded"):  # fmt: skip
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=f"{got.symbol} {name}")


def test_missing_closes_and_volumes_read_as_nan_and_symbols_stay_apart(sessions: sessionmaker[Session]) -> None:
    from monitor.db.tables import DailyPrice

    bars = [  # written in no particular order; two symbols whose names sort next to each other
        ("ABC", date(2019, 10, 9), None, 5.0e5),
        ("ABC", date(2019, 10, 8), 10.5, None),
        ("ABCD", date(2019, 10, 8), 3.25, 0.0),
        ("ABC", date(2019, 10, 10), 11.0, 4.0e5),
    ]
    with sessions.begin() as session:
        session.add_all(
            DailyPrice(symbol=s, date=d, adj_close=c, close=c, volume=v, source="test") for s, d, c, v in bars
        )
    cache = CachedStoreBars(sessions)
    frames = cache.bars_many(["ABC", "ABCD"], None, None)
    abc = frames["ABC"]
    assert [stamp.date() for stamp in abc.index] == [date(2019, 10, 8), date(2019, 10, 9), date(2019, 10, 10)]
    np.testing.assert_array_equal(abc["adj_close"].to_numpy(), [10.5, np.nan, 11.0])
    np.testing.assert_array_equal(abc["volume"].to_numpy(), [np.nan, 5.0e5, 4.0e5])
    assert frames["ABCD"]["adj_close"].tolist() == [3.25]
    history = cache.histories(["ABC"])["ABC"]
    assert history.dates.tolist() == list(abc.index.asi8)
    np.testing.assert_array_equal(history.close, [10.5, np.nan, 11.0])
