"""Fixtures shared by the whole suite.

Storage tests take the ``engine`` (or ``sessions``) fixture, which runs each test twice: on a fresh SQLite file
and on a fresh PostgreSQL schema. The PostgreSQL half needs ``MONITOR_TEST_POSTGRES_URL`` and is skipped, with
that reason, when it is not set. Every test starts on an empty database at the shipped Alembic head, so tests can
run in parallel against one server.

Migrating costs a second a test on PostgreSQL, so each test process migrates once: SQLite tests get a copy of a
migrated template file, PostgreSQL tests share one migrated schema per process, emptied (rows deleted, id sequences
restarted) before each test. The migrations themselves are tested on fresh databases (``fresh_database`` marker), and
a test that leaves the shared schema unusable (a lock held past its end) gets a fresh one, never a dirty one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables import Document, EventRow, metadata
from tests.paths import FIXTURES as FIXTURES
from tests.paths import SHARED as SHARED
from tests.paths import SHARED_DATA as SHARED_DATA

POSTGRES_ENV = "MONITOR_TEST_POSTGRES_URL"
E2E_DIRECTORY = Path(__file__).resolve().parent / "e2e"
# Most tests match against the curated seed (93 listings) so a fresh database per test stays cheap; the shipped
# market universe (5,200 listings) has its own tests, which turn it back on or call the store directly. Set here too
# (not only per test) so module- and session-scoped fixtures build their databases the same way.
MARKET_UNIVERSE_ENV = "MONITOR_MATCHING__MARKET_UNIVERSE"
os.environ[MARKET_UNIVERSE_ENV] = "false"
# pytest-xdist starts its workers with COLUMNS=80 and LINES=24; the CLI's rich consoles read COLUMNS once, when
# monitor.commands is imported (at collection), so a worker would pin every table to 80 columns. Tests that want a
# terminal width set it themselves (tests/commands/test_narrow_terminal.py).
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)
# Fixtures that hand a test a real database (and the shared backfilled ones): their tests are integration tests.
DATABASE_FIXTURES = frozenset(
    {"engine", "sessions", "session", "sqlite_sessions", "backfilled", "baseline", "trimmed_prices", "local_server"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test using a database (or local server) fixture ``integration``, so ``pytest -m "not
    integration"`` leaves the pure unit tests: a loop of seconds. Subprocess and HTTP-server tests that build their
    own carry ``pytestmark = pytest.mark.integration``. Everything under tests/e2e is also ``e2e``: daemons whose
    promised latencies are asserted, so the README runs them alone, after the parallel rest."""
    for item in items:
        if DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if E2E_DIRECTORY in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.integration)


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        pytest.skip(
            f"PostgreSQL half skipped: set {POSTGRES_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test to run it"
        )
    return url


@contextmanager
def postgres_schema(*, migrated: bool) -> Iterator[str]:
    """A database URL on a fresh PostgreSQL schema of its own (dropped afterwards); skips without PostgreSQL."""
    base = postgres_url()
    admin = make_engine(base)
    schema = _new_schema(admin, base, migrated=migrated)
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


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


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the shipped head, copied for each test (a copy takes milliseconds, a migration 150 ms)."""
    path = tmp_path_factory.mktemp("template") / "monitor.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


class _SharedSchema:
    """One migrated PostgreSQL schema per test process, emptied before each test that uses it."""

    def __init__(self, admin: Engine, url: str) -> None:
        self.admin = admin
        self.url = url
        self.name = ""
        self.sequences: list[str] = []

    def fresh(self) -> str:
        self.drop()
        self.name = _new_schema(self.admin, self.url)
        with self.admin.connect() as connection:
            rows = connection.execute(
                text("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = :s"),
                {"s": self.name},
            )
            self.sequences = sorted(str(name) for (name,) in rows)
        return self.name

    def emptied(self) -> str:
        """DELETE in foreign-key order and restart the id sequences: 30 ms, where TRUNCATE takes 500 ms (it
        swaps every table's and index's files)."""
        if not self.name:
            return self.fresh()
        try:
            with self.admin.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                for table in reversed(metadata.sorted_tables):
                    connection.execute(text(f'DELETE FROM "{self.name}"."{table.name}"'))
                for sequence in self.sequences:
                    connection.execute(text(f'ALTER SEQUENCE "{self.name}"."{sequence}" RESTART'))
        except Exception:  # a lock left behind by the previous test: start over on a new schema
            return self.fresh()
        return self.name

    def drop(self) -> None:
        if self.name:
            _drop_schema(self.admin, self.name)
            self.name = ""


def _no_commit_flush(connection: Any, _record: Any) -> None:
    """A commit that does not wait for the WAL to reach the disk: a test database is thrown away, and the storage
    tests commit often (each waited for an fsync, doubling PostgreSQL's share of the suite on a busy disk). What is
    tested (isolation, locking, visibility after commit) is unchanged."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    connection.commit()


def _new_schema(admin: Engine, url: str, *, migrated: bool = True) -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    if migrated:
        engine = make_engine(url, schema=schema)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
    return schema


def _drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def _postgres_shared(_postgres_admin: Engine | None) -> Iterator[_SharedSchema | None]:
    if _postgres_admin is None:
        yield None
        return
    shared = _SharedSchema(_postgres_admin, os.environ[POSTGRES_ENV])
    yield shared
    shared.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _postgres_admin: Engine | None,
    _postgres_shared: _SharedSchema | None,
    _sqlite_template: Path,
) -> Iterator[Engine]:
    """An empty database at the shipped head: a SQLite file or a PostgreSQL schema."""
    fresh = request.node.get_closest_marker("fresh_database") is not None
    if request.param == "sqlite":
        path = tmp_path / "monitor.db"
        if not fresh:
            shutil.copyfile(_sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        if fresh:
            upgrade(engine)
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    assert _postgres_admin is not None
    assert _postgres_shared is not None
    schema = _new_schema(_postgres_admin, url) if fresh else _postgres_shared.emptied()
    engine = make_engine(url, schema=schema)
    sqlalchemy_event.listen(engine, "connect", _no_commit_flush)
    try:
        yield engine
    finally:
        engine.dispose()
        if fresh:
            _drop_schema(_postgres_admin, schema)


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
