"""The "detected" alert's quote: extended-hours move from yfinance intraday, last close from a CSV directory."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from yfinance.exceptions import YFRateLimitError

from monitor.errors import NoPriceData
from monitor.prices.calendars import shared_calendars
from monitor.prices.quotes import last_quote
from monitor.prices.sources import CsvDirectorySource
from monitor.prices.yfinance_source import ThrottledWorker, YFinanceSource
from tests.conftest import SHARED_DATA
from tests.prices.yahoo_fake import FakeYahoo, load, patched_yahoo

CSV = CsvDirectorySource(SHARED_DATA / "prices")
ANNOUNCED = datetime(2019, 10, 7, 20, 40, tzinfo=UTC)  # 16:40 EDT, after the US close


def test_after_hours_move_from_intraday_trades(tmp_path: Path) -> None:
    fake = FakeYahoo(intraday={"AMBA": load("chart_AMBA_5m_2019-10-07.json")})
    worker = ThrottledWorker(rate=1000.0, rate_limit_error=YFRateLimitError, sleep=lambda s: None, rng=random.Random(3))
    with patched_yahoo(fake, tmp_path / "yf"):
        source = YFinanceSource(cache_dir=tmp_path / "yf", worker=worker)
        quote = last_quote(
            source, "AMBA", ANNOUNCED, now=datetime(2019, 10, 7, 23, 0, tzinfo=UTC), calendars=shared_calendars()
        )
    worker.close()
    assert quote is not None
    assert quote.reference_price == pytest.approx(57.22)  # the last trade before the filing: the close
    assert quote.price == pytest.approx(50.35)
    assert quote.move == pytest.approx(50.35 / 57.22 - 1)  # about −12 %, as reported that evening
    assert quote.extended_hours
    assert quote.at == datetime(2019, 10, 7, 23, 0, tzinfo=UTC)  # end of the 18:55 ET bar: nothing after now
    assert quote.source == "yfinance"


def test_daily_source_gives_last_close_against_the_close_before_day0() -> None:
    calendars = shared_calendars()
    next_evening = last_quote(CSV, "AMBA", ANNOUNCED, now=datetime(2019, 10, 8, 21, 0, tzinfo=UTC), calendars=calendars)
    assert next_evening is not None
    assert (next_evening.price, next_evening.reference_price) == pytest.approx((51.79, 57.22))
    assert next_evening.move == pytest.approx(51.79 / 57.22 - 1)
    assert next_evening.at == datetime(2019, 10, 8, 20, 0, tzinfo=UTC)
    assert not next_evening.extended_hours
    same_evening = last_quote(CSV, "AMBA", ANNOUNCED, now=datetime(2019, 10, 7, 23, 0, tzinfo=UTC), calendars=calendars)
    assert same_evening is not None
    assert same_evening.price == pytest.approx(57.22)
    assert same_evening.move is None  # nothing has traded since the announcement


def test_halted_share_has_no_move_until_it_trades() -> None:
    calendars = shared_calendars()
    halted = last_quote(CSV, "002415.SZ", ANNOUNCED, now=datetime(2019, 10, 9, 8, 0, tzinfo=UTC), calendars=calendars)
    assert halted is not None
    assert halted.price == pytest.approx(32.30)  # the last trade, on 09-30
    assert halted.halted
    assert halted.move is None  # the flat suspended rows are not trades, so no 0 % move
    reopened = last_quote(
        CSV, "002415.SZ", ANNOUNCED, now=datetime(2019, 10, 10, 8, 0, tzinfo=UTC), calendars=calendars
    )
    assert reopened is not None
    assert reopened.move == pytest.approx(30.90 / 32.30 - 1)
    assert not reopened.halted


def test_no_quote_for_an_unknown_symbol() -> None:
    assert last_quote(CSV, "NOPE", ANNOUNCED, now=ANNOUNCED, calendars=shared_calendars()) is None


class DailyWithFailingIntraday(CsvDirectorySource):
    """A source whose intraday feed has nothing (as Yahoo for trades older than 60 days)."""

    def __init__(self) -> None:
        super().__init__(SHARED_DATA / "prices")
        self.intraday_calls = 0

    def intraday(self, symbol: str, since: datetime) -> object:
        self.intraday_calls += 1
        raise NoPriceData(f"{symbol}: Yahoo has no prices (5m data not available)", symbol=symbol)


def test_intraday_failure_falls_back_to_daily_bars() -> None:
    source = DailyWithFailingIntraday()
    now = datetime(2019, 10, 8, 21, 0, tzinfo=UTC)
    quote = last_quote(source, "AMBA", ANNOUNCED, now=now, calendars=shared_calendars())
    assert quote is not None
    assert quote.move == pytest.approx(51.79 / 57.22 - 1)
    assert source.intraday_calls == 1
    later = last_quote(source, "AMBA", ANNOUNCED, now=now + timedelta(days=90), calendars=shared_calendars())
    assert later is not None
    assert source.intraday_calls == 1  # too old for intraday bars: not even asked
