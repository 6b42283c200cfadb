"""Every price source against the one ``PriceSourceContract``: each class supplies only its adapter.

Inputs: the real daily prices in ``shared/data/prices`` (CSV directory, static frames cut from them, the demo's
cached copy of the shipped files) and yfinance's own parsing of real-shaped chart JSON (``tests/fixtures/prices``)
served through its patched transport.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from yfinance.exceptions import YFRateLimitError

from monitor.demo.story import CachedCsvSource, demo_data
from monitor.prices.sources import CsvDirectorySource, PriceSource, StaticSource
from monitor.prices.yfinance_source import ThrottledWorker, YFinanceSource
from tests.conftest import SHARED_DATA
from tests.prices.contract import PriceSourceContract
from tests.prices.yahoo_fake import FakeYahoo, load, patched_yahoo

PRICES = SHARED_DATA / "prices"


class TestCsvDirectorySource(PriceSourceContract):
    @pytest.fixture
    def source(self) -> PriceSource:
        return CsvDirectorySource(PRICES)


class TestStaticSource(PriceSourceContract):
    @pytest.fixture
    def source(self) -> PriceSource:
        return StaticSource({"AMBA": CsvDirectorySource(PRICES).history("AMBA")})


class TestDemoCachedCsvSource(PriceSourceContract):
    @pytest.fixture
    def source(self) -> Iterator[PriceSource]:
        with demo_data() as data:
            yield CachedCsvSource(data / "prices")


class TestYFinanceSource(PriceSourceContract):
    @pytest.fixture
    def source(self, tmp_path: Path) -> Iterator[PriceSource]:
        worker = ThrottledWorker(
            rate=1000.0,
            jitter=0.0,
            backoff_base=0.01,
            backoff_max=0.01,
            rate_limit_error=YFRateLimitError,
            sleep=lambda seconds: None,
            rng=random.Random(7),
        )
        with patched_yahoo(FakeYahoo(charts={"AMBA": load("chart_AMBA.json")}), tmp_path / "yf-cache"):
            yield YFinanceSource(cache_dir=tmp_path / "yf-cache", worker=worker)
        worker.close()
