"""YFinanceSource offline: yfinance's own parsing runs on real-shaped chart JSON served through its transport."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import yfinance.base
from yfinance.exceptions import YFRateLimitError

from monitor.errors import NoPriceData, PriceSourceUnavailable, RateLimited
from monitor.prices.calendars import shared_calendars
from monitor.prices.returns import session_returns
from monitor.prices.sources import CsvDirectorySource
from monitor.prices.yfinance_source import ThrottledWorker, YFinanceSource
from tests.conftest import SHARED_DATA
from tests.prices.yahoo_fake import FakeYahoo, load, patched_yahoo

CSV = CsvDirectorySource(SHARED_DATA / "prices")


@dataclass
class FakeTime:
    """Monotonic time that only moves when slept or advanced, recording every sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def worker(clock: FakeTime) -> Iterator[ThrottledWorker]:
    made = ThrottledWorker(
        rate=1.0,
        jitter=0.25,
        backoff_base=60.0,
        backoff_max=300.0,
        rate_limit_error=YFRateLimitError,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        rng=random.Random(7),
    )
    yield made
    made.close()


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[FakeYahoo]:
    fake = FakeYahoo(
        charts={
            "002415.SZ": load("chart_002415.SZ.json"),
            "0981.HK": load("chart_0981.HK.json"),
            "AMBA": load("chart_AMBA.json"),
        }
    )
    with patched_yahoo(fake, tmp_path / "yf-cache"):
        yield fake


@pytest.fixture
def source(tmp_path: Path, worker: ThrottledWorker, yahoo: FakeYahoo) -> YFinanceSource:
    return YFinanceSource(cache_dir=tmp_path / "yf-cache", worker=worker)


def test_shenzhen_symbol_parses_with_yahoo_null_rows_as_missing_bars(source: YFinanceSource, tmp_path: Path) -> None:
    bars = source.history("002415.SZ", date(2019, 9, 25), date(2019, 10, 14))
    assert bars.attrs["currency"] == "CNY"
    assert bars.index.tz is None
    assert pd.Timestamp("2019-10-08") not in bars.index  # Yahoo's null rows for the suspension are dropped
    expected = CSV.history("002415.SZ", date(2019, 9, 25), date(2019, 10, 14))
    expected = expected[expected["volume"] > 0]
    assert list(bars.index) == list(expected.index)
    assert list(bars["close"]) == pytest.approx(list(expected["close"]))
    assert list(bars["adj_close"]) == pytest.approx(list(expected["adj_close"]), rel=1e-6)
    sessions = shared_calendars().sessions("XSHG", date(2019, 9, 25), date(2019, 10, 14))
    halts = session_returns(bars, sessions, symbol="002415.SZ")
    assert list(halts.index[halts["halted"]]) == [pd.Timestamp("2019-10-08"), pd.Timestamp("2019-10-09")]
    assert halts.loc["2019-10-10", "span"] == 3
    assert (tmp_path / "yf-cache" / "tkr-tz.db").is_file()  # the time-zone cache lives where we said


def test_hong_kong_symbol_keeps_exchange_dates(source: YFinanceSource, yahoo: FakeYahoo) -> None:
    bars = source.history("0981.HK", date(2019, 9, 27), date(2019, 10, 9))
    assert bars.attrs["currency"] == "HKD"
    days = [d.strftime("%m-%d") for d in bars.index]
    assert days == ["09-27", "09-30", "10-02", "10-03", "10-04", "10-08", "10-09"]  # 10-01 and 10-07 closed
    assert list(bars["close"]) == pytest.approx(
        list(CSV.history("0981.HK", date(2019, 9, 27), date(2019, 10, 9))["close"])
    )
    chart_calls = [params for url, params in yahoo.requests if "/chart/0981.HK" in url and "period1" in params]
    assert chart_calls[-1]["interval"] == "1d"
    assert chart_calls[-1]["events"] == "div,splits,capitalGains"  # actions=True asks Yahoo for the events


def test_end_date_is_inclusive_and_start_none_fetches_everything(source: YFinanceSource) -> None:
    assert source.history("AMBA", date(2019, 10, 7), date(2019, 10, 8)).index[-1] == pd.Timestamp("2019-10-08")
    everything = source.history("AMBA")
    assert everything.index[0] == pd.Timestamp("2019-09-03")
    assert everything.index[-1] == pd.Timestamp("2019-10-31")


@pytest.mark.parametrize("info_lookups_done", [0, 2])
def test_unknown_symbol_is_no_price_data(
    source: YFinanceSource, monkeypatch: pytest.MonkeyPatch, info_lookups_done: int
) -> None:
    # yfinance falls back to a quoteSummary lookup for the first two unknown symbols of a process (a 404 there),
    # then reports a missing time zone; both must mean "no data", not an outage.
    monkeypatch.setattr(yfinance.base, "_tz_info_fetch_ctr", info_lookups_done)
    with pytest.raises(NoPriceData, match="NOPE") as caught:
        source.history("NOPE", date(2019, 1, 1), None)
    assert caught.value.symbol == "NOPE"


def test_empty_range_of_a_known_symbol_is_no_price_data(source: YFinanceSource) -> None:
    with pytest.raises(NoPriceData, match="AMBA"):
        source.history("AMBA", date(2019, 12, 2), date(2019, 12, 6))


def test_rate_limit_pauses_the_worker_with_capped_exponential_backoff(
    source: YFinanceSource, yahoo: FakeYahoo, clock: FakeTime
) -> None:
    yahoo.rate_limited.add("AMBA")
    with pytest.raises(RateLimited, match="pausing requests for 60 s") as first:
        source.history("AMBA", date(2019, 10, 1), None)
    assert first.value.retry_after == 60
    assert source.status == "degraded"
    calls = len(yahoo.requests)
    with pytest.raises(RateLimited, match="paused after a rate limit"):
        source.history("0981.HK", date(2019, 10, 1), None)  # every symbol waits: one client, one limit
    assert len(yahoo.requests) == calls  # failing fast, no request while paused
    pauses = []
    for _ in range(4):
        clock.now += source.retry_after() + 0.1
        with pytest.raises(RateLimited) as again:
            source.history("AMBA", date(2019, 10, 1), None)
        pauses.append(again.value.retry_after)
    assert pauses == [120, 240, 300, 300]  # doubling, capped at backoff_max
    yahoo.rate_limited.clear()
    clock.now += source.retry_after() + 0.1
    assert not source.history("AMBA", date(2019, 10, 1), None).empty
    assert source.status == "ok"
    assert source.retry_after() == 0


def test_requests_are_spaced_about_one_second_apart_with_jitter(source: YFinanceSource, clock: FakeTime) -> None:
    for _ in range(4):
        source.history("AMBA", date(2019, 10, 1), date(2019, 10, 4))
    assert len(clock.sleeps) == 3
    assert all(0.75 <= pause <= 1.25 for pause in clock.sleeps)
    assert len(set(clock.sleeps)) > 1  # jittered, so replicas do not fall into lockstep


def test_transport_failures_become_price_source_unavailable(
    source: YFinanceSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yfinance.data import YfData

    def broken(self: object, url: str, params: object = None, timeout: float = 30) -> object:
        raise TimeoutError("read timed out")

    monkeypatch.setattr(YfData, "get", broken)
    monkeypatch.setattr(YfData, "cache_get", broken)
    with pytest.raises(PriceSourceUnavailable, match="AMBA: fetching from Yahoo failed: TimeoutError"):
        source.history("AMBA", date(2019, 10, 1), None)
    assert source.status == "ok"  # an outage is not a rate limit


def test_intraday_includes_extended_hours(tmp_path: Path, worker: ThrottledWorker) -> None:
    fake = FakeYahoo(intraday={"AMBA": load("chart_AMBA_5m_2019-10-07.json")})
    with patched_yahoo(fake, tmp_path / "yf-cache"):
        source = YFinanceSource(cache_dir=tmp_path / "yf-cache", worker=worker)
        trades = source.intraday("AMBA", datetime(2019, 10, 7, 19, 0, tzinfo=UTC))
    assert str(trades.index.tz) == "UTC"
    assert trades.index[0] == pd.Timestamp("2019-10-07 19:00", tz="UTC")
    assert trades.index[-1] == pd.Timestamp("2019-10-07 23:55", tz="UTC")  # 19:55 ET, post-market
    assert trades["price"].iloc[-1] == pytest.approx(50.35)
    intraday_calls = [params for url, params in fake.requests if params.get("interval") == "5m"]
    assert intraday_calls[-1]["includePrePost"] is True
