"""Fixtures for the alerts tests.

Tests of SQL that differs between databases (claims, compare-and-set settles, upserts, JSON columns) take the
shared ``sessions`` fixture and run on SQLite and PostgreSQL. Tests of delivery logic above that SQL take
``sqlite_sessions``: the same migrated schema on SQLite only, which keeps this area's tests fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()
