"""The composition root: price sources, sinks and the delivery worker built from settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from alerts.console import ConsoleSink
from alerts.delivery import DeliveryWorker
from alerts.slack import SlackSink
from alerts.webhook import WebhookSink
from monitor.clock import SimulatedClock
from monitor.commands.compose import build_sink, build_sinks, delivery_worker, make_source
from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.prices.sources import CsvDirectorySource
from tests.conftest import SHARED_DATA

PRICES = SHARED_DATA / "prices"


def test_make_source_selects_by_spec(tmp_path: Path) -> None:
    assert isinstance(make_source(f"dir:{PRICES}"), CsvDirectorySource)
    yahoo = make_source("yfinance", settings=Settings(data_dir=tmp_path))
    assert yahoo.name == "yfinance"
    assert (tmp_path / "yfinance").is_dir()  # the time-zone cache lives in the data directory
    with pytest.raises(ConfigError, match="expected 'yfinance' or 'dir:PATH'"):
        make_source("csv")


def test_the_console_is_always_built_for_operator_alerts(tmp_path: Path) -> None:
    assert set(build_sinks(Settings(data_dir=tmp_path))) == {"console"}
    configured = Settings(
        data_dir=tmp_path,
        slack={"bot_token": SecretStr("xoxb-unit"), "channel": "C0TEST"},
        webhook={"url": "http://127.0.0.1:9/hook"},
    )
    sinks = build_sinks(configured)
    assert list(sinks) == ["slack", "webhook", "console"]
    assert isinstance(sinks["slack"], SlackSink)
    assert isinstance(sinks["webhook"], WebhookSink)
    assert isinstance(sinks["console"], ConsoleSink)
    with pytest.raises(ValueError, match="unknown sink 'pager'"):
        build_sink("pager", configured)


def test_the_delivery_worker_runs_on_the_given_clock_and_sinks(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    clock = SimulatedClock(datetime(2019, 10, 7, tzinfo=UTC))
    sinks = build_sinks(Settings(data_dir=tmp_path))
    worker = delivery_worker(None, Settings(data_dir=tmp_path), clock, sinks=sinks)  # type: ignore[arg-type]
    assert isinstance(worker, DeliveryWorker)
    assert worker.clock is clock
    assert worker.sinks == sinks
