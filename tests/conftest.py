"""Fixtures shared by the whole suite.

Storage tests take the ``engine`` (or ``sessions``) fixture, which runs each test twice: on a fresh SQLite file
and on a fresh PostgreSQL schema. The PostgreSQL half needs ``MONITOR_TEST_POSTGRES_URL`` and is skipped, with
that reason, when it is not set. Each test gets its own schema, migrated with the shipped Alembic migrations,
so tests can run in parallel against one server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables import Document, EventRow
from tests.paths import FIXTURES as FIXTURES
from tests.paths import SHARED as SHARED
from tests.paths import SHARED_DATA as SHARED_DATA

POSTGRES_ENV = "MONITOR_TEST_POSTGRES_URL"
# Most tests match against the curated seed (93 listings) so a fresh database per test stays cheap; the shipped
# market universe (5,200 listings) has its own tests, which turn it back on or call the store directly. Set here too
# (not only per test) so module- and session-scoped fixtures build their databases the same way.
MARKET_UNIVERSE_ENV = "MONITOR_MATCHING__MARKET_UNIVERSE"
os.environ[MARKET_UNIVERSE_ENV] = "false"
# Fixtures that hand a test a real database (and the shared backfilled ones): their tests are integration tests.
DATABASE_FIXTURES = frozenset(
    {"engine", "sessions", "session", "sqlite_sessions", "backfilled", "baseline", "trimmed_prices", "local_server"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test using a database (or local server) fixture ``integration``, so ``pytest -m "not
    integration"`` leaves the pure unit tests: a loop of seconds. Subprocess and HTTP-server tests that build their
    own carry ``pytestmark = pytest.mark.integration``."""
    for item in items:
        if DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        pytest.skip(
            f"PostgreSQL half skipped: set {POSTGRES_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test to run it"
        )
    return url


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's MONITOR_* variables or writes to their data directory."""
    for name in list(os.environ):
        if name.startswith("MONITOR_") and name != POSTGRES_ENV:
            monkeypatch.delenv(name)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(MARKET_UNIVERSE_ENV, "false")


@pytest.fixture(scope="session")
def _postgres_admin() -> Iterator[Engine | None]:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        yield None
        return
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, _postgres_admin: Engine | None) -> Iterator[Engine]:
    """A migrated, empty database: SQLite file or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    assert _postgres_admin is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with _postgres_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, schema=schema)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with _postgres_admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


def event_by_number(sessions: sessionmaker[Session], number: str) -> EventRow:
    """The stored event of a Federal Register document, by its document number."""
    with sessions() as session:
        query = select(EventRow).join(Document, Document.id == EventRow.document_id)
        return session.scalars(query.where(Document.document_number == number)).one()
