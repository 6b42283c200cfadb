"""Backfill fixtures: the saved Federal Register responses of two 2019 rules and the real prices on disk."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.backfill import Backfill, BackfillRequest, BackfillSummary, Progress, load_overrides
from monitor.clock import SystemClock
from monitor.commands.compose import backfill as build_backfill
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.feeds.wiring import build_clients, build_poller
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from tests.backfill.dbcompare import snapshot
from tests.conftest import FIXTURES, SHARED_DATA
from tests.recent_prices import write_trimmed_prices

FEEDS = FIXTURES / "backfill" / "feeds"  # 2019-22210 (reconstructed) and 2019-10616 (Huawei, synthetic)
PRICES = SHARED_DATA / "prices"
SINCE, UNTIL = date(2019, 1, 1), date(2019, 12, 31)
HUAWEI_SUPPLIERS = {"NPTN", "LITE", "QRVO", "SWKS", "AVGO", "MU", "QCOM", "INTC"}


@pytest.fixture(scope="session")
def trimmed_prices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_backfill(tmp_path_factory).prices


def settings_for(tmp_path: Path, **study: object) -> Settings:
    return Settings(data_dir=tmp_path, study={"placebo_draws": 100, **study})


def runner(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    feeds: Path = FEEDS,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    prices: Path | None,
) -> Backfill:
    clock = SystemClock()
    clients = build_clients(settings, source=f"dir:{feeds}", clock=clock, sleep=lambda _: None)
    return build_backfill(
        sessions,
        settings,
        calendars=calendars_from_settings(settings),
        poller=build_poller(settings, sessions, clock, clients),
        federal_register=clients.federal_register,
        price_source=CsvDirectorySource(prices) if prices else None,
        clock=clock,
        progress=progress,
        stop=stop,
    )


def run_backfill(
    sessions: sessionmaker[Session], settings: Settings, prices: Path, **options: object
) -> BackfillSummary:
    request = BackfillRequest(SINCE, UNTIL, overrides=load_overrides(), **options)  # type: ignore[arg-type]
    return runner(sessions, settings, prices=prices).run(request)


def fresh_sqlite(path: Path) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine, session_factory(engine)


Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class SharedBackfill:
    """One uninterrupted backfill of the fixture, made once per test process: what every interrupted run must
    converge to, and the database the report tests read (never write)."""

    database: Path
    prices: Path
    snapshot: Snapshot


_SHARED: dict[str, SharedBackfill] = {}


def shared_backfill(factory: pytest.TempPathFactory) -> SharedBackfill:
    if "done" not in _SHARED:
        directory = factory.mktemp("backfilled")
        prices = write_trimmed_prices(directory / "prices")
        engine, sessions = fresh_sqlite(directory / "monitor.db")
        summary = run_backfill(sessions, settings_for(directory), prices)
        assert summary.ok
        _SHARED["done"] = SharedBackfill(directory / "monitor.db", prices, snapshot(engine))
        engine.dispose()
    return _SHARED["done"]


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return shared_backfill(tmp_path_factory).snapshot
