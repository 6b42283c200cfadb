"""The report tests read the backfill tests' shared database (the two 2019 rules, backfilled once per process)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.engine import make_engine, session_factory
from tests.backfill.conftest import shared_backfill


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
    shared = shared_backfill(tmp_path_factory)
    engine = make_engine(f"sqlite:///{shared.database}")
    return Backfilled(shared.database, engine, session_factory(engine), shared.prices)
