"""The backfill's bar cache returns exactly the stored bars a study reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.backfill.bars import STUDY_COLUMNS, CachedStoreBars
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.prices.sources import CsvDirectorySource
from monitor.prices.store import PriceStore, read_bars_many


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
