"""The price store on SQLite and PostgreSQL: first load, incremental refresh, re-based history, forming bars,
failures recorded per symbol, and the readers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from yfinance.exceptions import YFRateLimitError

from monitor import metrics
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables.prices import DailyPrice, PriceSyncState
from monitor.errors import NoPriceData, PriceSourceUnavailable, RateLimited
from monitor.prices.calendars import shared_calendars
from monitor.prices.sources import CsvDirectorySource, PriceSource, StaticSource
from monitor.prices.store import PriceStore, read_bars, read_bars_many
from monitor.prices.yfinance_source import ThrottledWorker, YFinanceSource
from tests.conftest import SHARED_DATA
from tests.prices.yahoo_fake import FakeYahoo, load, patched_yahoo

CSV = CsvDirectorySource(SHARED_DATA / "prices")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def make_store(sessions: sessionmaker[Session], clock: SimulatedClock, **options: int) -> PriceStore:
    return PriceStore(sessions, shared_calendars(), clock=clock, **options)


def stored(sessions: sessionmaker[Session], symbol: str) -> pd.DataFrame:
    with sessions() as session:
        return read_bars(session, symbol)


class Scripted(StaticSource):
    """A static source that can be made to fail for a symbol."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        super().__init__(frames, name="scripted")
        self.failures: dict[str, Exception] = {}

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        if symbol in self.failures:
            self.calls.append((symbol, start, end))
            raise self.failures[symbol]
        return super().history(symbol, start, end)


def test_first_load_then_incremental_with_overlap(sessions: sessionmaker[Session]) -> None:
    full = CSV.history("AMBA", date(2019, 9, 1), date(2019, 10, 31))
    source = Scripted({"AMBA": full.loc[:"2019-10-04"]})
    clock = SimulatedClock(utc(2019, 10, 5, 12))
    store = make_store(sessions, clock, overlap_sessions=5)

    first = store.refresh("AMBA", source)
    assert (first.status, first.mode, first.written) == ("ok", "full", 24)
    assert first.last_session == date(2019, 10, 4)
    assert source.calls[-1] == ("AMBA", None, None)

    source.set("AMBA", full)
    clock.set(utc(2019, 10, 9, 21))
    second = store.refresh("AMBA", source)
    assert (second.status, second.mode) == ("ok", "incremental")
    assert source.calls[-1] == ("AMBA", date(2019, 9, 30), None)  # 5th-last stored session
    assert second.fetched == 24  # 09-30..10-31 as the source has it
    assert second.unfinished == 16  # 10-10 onwards has not closed at the simulated now
    assert second.written == 8  # 09-30..10-04 again, then 10-07..10-09
    rows = stored(sessions, "AMBA")
    assert rows.index[-1] == pd.Timestamp("2019-10-09")
    assert rows.loc["2019-10-08", "close"] == pytest.approx(51.79)
    state = store.state("AMBA")
    assert state is not None
    assert (state.status, state.last_session, state.last_fetch_at) == ("ok", date(2019, 10, 9), clock.now())


def test_refresh_twice_is_idempotent(sessions: sessionmaker[Session]) -> None:
    source = Scripted({"MU": CSV.history("MU", date(2019, 1, 1), date(2019, 12, 31))})
    store = make_store(sessions, SimulatedClock(utc(2020, 1, 2)))
    store.refresh("MU", source)
    again = store.refresh("MU", source)
    assert again.mode == "incremental"
    with sessions() as session:
        count = session.execute(select(func.count()).select_from(DailyPrice).where(DailyPrice.symbol == "MU")).scalar()
    assert count == 252


def test_a_forming_bar_is_not_stored_until_close_plus_margin(sessions: sessionmaker[Session]) -> None:
    source = Scripted({"AMBA": CSV.history("AMBA", date(2019, 10, 1), date(2019, 10, 8))})
    clock = SimulatedClock(utc(2019, 10, 8, 19, 0))  # 15:00 EDT: the 10-08 session is still trading
    store = make_store(sessions, clock, bar_margin_minutes=30)
    result = store.refresh("AMBA", source)
    assert (result.last_session, result.unfinished) == (date(2019, 10, 7), 1)
    clock.set(utc(2019, 10, 8, 20, 29))  # closed at 20:00 UTC, but the margin has not passed
    assert store.refresh("AMBA", source).last_session == date(2019, 10, 7)
    clock.set(utc(2019, 10, 8, 20, 30))
    assert store.refresh("AMBA", source).last_session == date(2019, 10, 8)


def test_changed_adjusted_close_in_the_overlap_refetches_everything(sessions: sessionmaker[Session]) -> None:
    before = CSV.history("QCOM", date(2019, 9, 3), date(2019, 10, 4))
    source = Scripted({"QCOM": before})
    clock = SimulatedClock(utc(2019, 10, 5))
    store = make_store(sessions, clock)
    store.refresh("QCOM", source)

    after = CSV.history("QCOM", date(2019, 9, 3), date(2019, 10, 11)).copy()
    after["adj_close"] *= 0.99  # a new dividend re-bases the whole adjusted history
    after = after.drop(pd.Timestamp("2019-09-03"))  # and the vendor no longer has the first day
    source.set("QCOM", after)
    clock.set(utc(2019, 10, 12))
    result = store.refresh("QCOM", source)
    assert result.mode == "full"
    assert result.reason is not None
    assert result.reason.startswith("adj_close changed on 2019-09-30")  # the oldest overlap session
    assert source.calls[-1] == ("QCOM", date(2019, 9, 3), None)  # the whole stored history again
    rows = stored(sessions, "QCOM")
    assert rows.index[0] == pd.Timestamp("2019-09-04")  # replaced, not merged
    assert rows["adj_close"].to_numpy() == pytest.approx(after["adj_close"].to_numpy())
    state = store.state("QCOM")
    assert state is not None
    assert state.full_refresh_at == clock.now()


def test_a_new_dividend_after_the_stored_history_refetches_everything(sessions: sessionmaker[Session]) -> None:
    history = CSV.history("INTC", date(2019, 9, 3), date(2019, 10, 11)).copy()
    source = Scripted({"INTC": history.loc[:"2019-10-04"]})
    clock = SimulatedClock(utc(2019, 10, 5))
    store = make_store(sessions, clock)
    store.refresh("INTC", source)
    history.loc["2019-10-09", "dividends"] = 0.315
    source.set("INTC", history)
    clock.set(utc(2019, 10, 12))
    result = store.refresh("INTC", source)
    assert (result.mode, result.reason) == ("full", "new dividend on 2019-10-09")
    assert stored(sessions, "INTC").loc["2019-10-09", "dividends"] == pytest.approx(0.315)


def test_since_earlier_than_stored_loads_the_earlier_history(sessions: sessionmaker[Session]) -> None:
    source = Scripted({"WDC": CSV.history("WDC", date(2019, 1, 1), date(2019, 12, 31))})
    store = make_store(sessions, SimulatedClock(utc(2020, 1, 2)))
    store.refresh("WDC", source, since=date(2019, 6, 3))
    assert stored(sessions, "WDC").index[0] == pd.Timestamp("2019-06-03")
    result = store.refresh("WDC", source, since=date(2019, 3, 1))
    assert (result.mode, result.reason, result.first_session) == ("full", "earlier --since", date(2019, 3, 1))


def test_failures_are_recorded_per_symbol_and_a_rate_limit_stops_the_batch(sessions: sessionmaker[Session]) -> None:
    source = Scripted({s: CSV.history(s, date(2019, 10, 1), date(2019, 10, 31)) for s in ("AMBA", "MU", "NVDA")})
    source.failures["MU"] = PriceSourceUnavailable("MU: Yahoo answered HTTP 502", symbol="MU")
    source.failures["NVDA"] = RateLimited(
        "NVDA: Yahoo rate limit; pausing requests for 60 s", symbol="NVDA", retry_after=60
    )
    store = make_store(sessions, SimulatedClock(utc(2019, 11, 1)))
    seen: list[str] = []
    results = store.refresh_many(
        ["AMBA", "NOPE", "MU", "NVDA", "LITE"], source, on_result=lambda r: seen.append(r.symbol)
    )
    assert [(r.symbol, r.status) for r in results] == [
        ("AMBA", "ok"), ("NOPE", "no_data"), ("MU", "error"), ("NVDA", "degraded"), ("LITE", "degraded"),
    ]  # fmt: skip
    assert seen == ["AMBA", "NOPE", "MU", "NVDA", "LITE"]
    assert results[-1].mode == "skipped"
    assert results[-1].retry_after == 60
    assert ("LITE", None, None) not in source.calls  # never asked once the source said slow down
    with sessions() as session:
        states = {row.symbol: (row.status, row.last_error) for row in session.scalars(select(PriceSyncState))}
    assert states["NOPE"] == ("no_data", "NOPE: not in scripted")
    assert states["MU"][0] == "error"
    assert states["NVDA"][0] == "degraded"
    assert "LITE" not in states
    assert metrics.REGISTRY.get_sample_value("monitor_prices_degraded") == 1
    store.refresh("AMBA", source)
    assert metrics.REGISTRY.get_sample_value("monitor_prices_degraded") == 0


def test_a_source_outage_stops_the_batch_after_three_failures(sessions: sessionmaker[Session]) -> None:
    symbols = ["AMBA", "MU", "NVDA", "LITE", "QRVO"]
    source = Scripted({s: CSV.history(s, date(2019, 10, 1), date(2019, 10, 31)) for s in symbols})
    for symbol in ("MU", "NVDA", "LITE"):
        source.failures[symbol] = PriceSourceUnavailable(f"{symbol}: Could not resolve host", symbol=symbol)
    results = make_store(sessions, SimulatedClock(utc(2019, 11, 1))).refresh_many(symbols, source)
    assert [(r.symbol, r.status, r.mode) for r in results] == [
        ("AMBA", "ok", "full"), ("MU", "error", "skipped"), ("NVDA", "error", "skipped"),
        ("LITE", "error", "skipped"), ("QRVO", "error", "skipped"),
    ]  # fmt: skip
    assert results[-1].reason == "not attempted: 3 source failures in a row"
    assert [call[0] for call in source.calls] == ["AMBA", "MU", "NVDA", "LITE"]


def test_a_failed_refresh_keeps_the_stored_bars(sessions: sessionmaker[Session]) -> None:
    source = Scripted({"AMBA": CSV.history("AMBA", date(2019, 10, 1), date(2019, 10, 31))})
    store = make_store(sessions, SimulatedClock(utc(2019, 11, 1)))
    store.refresh("AMBA", source)
    source.failures["AMBA"] = PriceSourceUnavailable("AMBA: timeout", symbol="AMBA")
    result = store.refresh("AMBA", source)
    assert (result.status, result.last_session) == ("error", date(2019, 10, 31))
    assert len(stored(sessions, "AMBA")) == 23


def test_readers(sessions: sessionmaker[Session]) -> None:
    source = CsvDirectorySource(SHARED_DATA / "prices")
    store = make_store(sessions, SimulatedClock(utc(2019, 11, 1)))
    for symbol in ("002415.SZ", "000300.SS"):
        store.refresh(symbol, source, since=date(2019, 9, 2))
    bars = store.bars("002415.SZ", date(2019, 9, 30), date(2019, 10, 10))
    assert list(bars.index.strftime("%m-%d")) == ["09-30", "10-08", "10-09", "10-10"]
    assert list(bars["volume"].to_numpy() == 0) == [False, True, True, False]  # halts survive the round trip
    assert bars.index.name == "date"
    many = store.bars_many(["002415.sz", "000300.SS", "NOPE"], date(2019, 10, 8), date(2019, 10, 9))
    assert [len(many[s]) for s in ("002415.SZ", "000300.SS", "NOPE")] == [2, 2, 0]
    with sessions() as session:
        assert read_bars_many(session, ["000300.SS"])["000300.SS"].index[0] == pd.Timestamp("2019-09-02")
    assert isinstance(store, PriceSource)  # the store doubles as the database-cache source
    assert store.history("000300.SS", date(2019, 10, 8), date(2019, 10, 8))["close"].iloc[0] == pytest.approx(3837.68)
    with pytest.raises(NoPriceData, match="MU: no stored bars"):
        store.history("MU")


def test_store_from_settings_uses_the_price_settings(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, prices={"overlap_sessions": 2, "bar_margin_minutes": 0})
    store = PriceStore.from_settings(sessions, settings, clock=SimulatedClock(utc(2019, 10, 8, 20, 0)))
    source = Scripted({"AMBA": CSV.history("AMBA", date(2019, 10, 1), date(2019, 10, 8))})
    assert store.refresh("AMBA", source).last_session == date(2019, 10, 8)  # margin 0: final at the close
    store.refresh("AMBA", source)
    assert source.calls[-1] == ("AMBA", date(2019, 10, 7), None)  # overlap of 2 sessions


@pytest.fixture
def nvda_yahoo(tmp_path: Path) -> Iterator[tuple[FakeYahoo, YFinanceSource]]:
    fake = FakeYahoo(charts={"NVDA": load("chart_NVDA_before_split.json")})
    worker = ThrottledWorker(rate=1000.0, rate_limit_error=YFRateLimitError, sleep=lambda s: None, rng=random.Random(1))
    with patched_yahoo(fake, tmp_path / "yf-cache"):
        yield fake, YFinanceSource(cache_dir=tmp_path / "yf-cache", worker=worker)
    worker.close()


def test_a_new_split_seen_through_yfinance_replaces_the_history(
    sessions: sessionmaker[Session], nvda_yahoo: tuple[FakeYahoo, YFinanceSource]
) -> None:
    fake, source = nvda_yahoo
    clock = SimulatedClock(utc(2021, 7, 19, 22))
    store = make_store(sessions, clock)
    assert store.refresh("NVDA", source).last_session == date(2021, 7, 19)
    assert stored(sessions, "NVDA").loc["2021-07-16", "close"] == pytest.approx(4 * 181.610001)

    fake.charts["NVDA"] = load("chart_NVDA_after_split.json")  # Yahoo after the 4:1 split of 2021-07-20
    clock.set(utc(2021, 7, 23, 22))
    result = store.refresh("NVDA", source)
    assert result.mode == "full"
    assert result.reason is not None
    assert "changed on 2021-07-13" in result.reason
    rows = stored(sessions, "NVDA")
    assert rows.index[0] == pd.Timestamp("2021-06-01")
    assert rows.index[-1] == pd.Timestamp("2021-07-23")
    assert rows.loc["2021-07-16", "close"] == pytest.approx(181.610001)
    assert rows.loc["2021-07-20", "splits"] == 4.0
    assert rows.loc["2021-06-09", "dividends"] == pytest.approx(0.04)
    with sessions() as session:
        row = session.get(DailyPrice, ("NVDA", date(2021, 7, 20)))
        assert row is not None
        assert (row.currency, row.source, row.fetched_at) == ("USD", "yfinance", clock.now())
    yahoo_periods = [p for url, p in fake.requests if "/chart/NVDA" in url and "period1" in p]
    starts = [datetime.fromtimestamp(int(p["period1"]), tz=UTC).date() for p in yahoo_periods]
    assert starts[-2:] == [date(2021, 7, 13), date(2021, 6, 1)]  # the overlap first, then the whole history


def test_yahoo_serving_a_live_bar_is_not_stored(
    sessions: sessionmaker[Session], nvda_yahoo: tuple[FakeYahoo, YFinanceSource]
) -> None:
    fake, source = nvda_yahoo
    fake.charts["NVDA"] = load("chart_NVDA_after_split.json")
    clock = SimulatedClock(utc(2021, 7, 23, 15, 0))  # Friday 11:00 EDT, mid-session
    result = make_store(sessions, clock).refresh("NVDA", source)
    assert result.last_session == date(2021, 7, 22)
    assert result.unfinished == 1
    assert clock.now() - timedelta(hours=1) < utc(2021, 7, 23, 20)


def test_two_full_refreshes_of_one_symbol_at_once_do_not_collide(sessions: sessionmaker[Session]) -> None:
    """The daemon's price job and its study job (or two replicas) may load the same symbol's history together."""
    import threading

    clock = SimulatedClock(utc(2019, 10, 9, 21))
    full = CSV.history("AMBA", date(2019, 9, 1), date(2019, 10, 9))
    second = make_store(sessions, clock)
    results: list[object] = []
    with sessions.begin() as session:  # the first refresh's transaction, still open when the second one inserts
        session.add(DailyPrice(symbol="AMBA", date=date(2019, 10, 8), close=1.0, adj_close=1.0, source="other"))
        session.flush()
        thread = threading.Thread(target=lambda: results.append(second.refresh("AMBA", StaticSource({"AMBA": full}))))
        thread.start()
        thread.join(0.5)  # PostgreSQL: waiting on the conflicting key; SQLite: waiting for the write lock
    thread.join(30)
    (result,) = results
    assert result.status == "ok"  # type: ignore[attr-defined]
    rows = stored(sessions, "AMBA")
    assert rows.loc["2019-10-08", "close"] == pytest.approx(51.79)  # the newer, real bar won
    assert rows.index[-1] == pd.Timestamp("2019-10-09")
