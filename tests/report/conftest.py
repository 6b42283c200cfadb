"""One backfilled database (the two 2019 rules of the backfill fixture) shared by the report tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.backfill.conftest import fresh_sqlite, run_backfill, settings_for, write_trimmed_prices


@dataclass(frozen=True)
class Backfilled:
    path: Path  # the SQLite file
    engine: Engine
    sessions: sessionmaker[Session]
    prices: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Backfilled:
    directory = tmp_path_factory.mktemp("report-db")
    prices = write_trimmed_prices(directory / "prices")
    engine, sessions = fresh_sqlite(directory / "monitor.db")
    assert run_backfill(sessions, settings_for(directory), prices).ok
    return Backfilled(directory / "monitor.db", engine, sessions, prices)
