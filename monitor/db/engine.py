"""Engines and sessions for the embedded SQLite database and for PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from monitor.errors import ConfigError, StorageError

if TYPE_CHECKING:  # the ORM is imported by the commands that use sessions, not by a plain connection
    from sqlalchemy.orm import Session, sessionmaker

CONNECT_TIMEOUT_SECONDS = 10
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def normalise_url(url: str) -> URL:
    """Parse a database URL; a bare ``postgresql://`` means our driver, psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("not a database URL", setting="MONITOR_DATABASE_URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """Build an engine; ``schema`` pins PostgreSQL's search_path (tests isolate themselves this way)."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            directory = Path(database).expanduser().parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # /proc/x, a read-only mount, a file where the directory should be
                raise StorageError(
                    f"cannot create the data directory {directory}: {exc.strerror or exc} (set MONITOR_DATA_DIR)"
                ) from None
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
        # A database host that does not answer must fail a probe or a job in seconds, not hang it.
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if schema is not None:
            if not _SCHEMA_NAME.match(schema):
                raise ValueError(f"invalid schema name {schema!r}")
            kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
    else:
        raise ConfigError(f"unsupported database {backend!r}; use sqlite or postgresql", setting="MONITOR_DATABASE_URL")
    try:
        engine = create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the driver for {backend} is not installed ({exc.name}); "
            "install it with: pip install 'entity-list-monitor[postgres]'",
            setting="MONITOR_DATABASE_URL",
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN, so transactions span every statement of a unit of work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "monitor_read_only"  # execution option marking a connection that only reads


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        # A reader needs no write lock: in WAL mode a deferred transaction reads its snapshot while a writer works,
        # so a probe (/readyz) answers at once instead of queueing up to busy_timeout behind that writer.
        connection.exec_driver_sql("BEGIN")
        return
    # IMMEDIATE: take the write lock when the transaction starts. A deferred transaction that read first and then
    # writes cannot wait for another writer in WAL mode (SQLite fails it at once with "database is locked" rather
    # than risk a stale snapshot); an immediate one waits up to busy_timeout. The daemon's jobs write from several
    # threads, and a CLI command may write beside it. (Django offers the same as transaction_mode="IMMEDIATE".)
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def read_only_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on the same engine and pool for code that only reads: on SQLite they never take the write lock.

    Writing in one is a bug the database reports (SQLite upgrades the lock or fails with "database is locked").
    """
    from sqlalchemy.orm import sessionmaker

    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        return sessions
    return sessionmaker(bind.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Fail with one readable line when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (DBAPIError, SQLAlchemyError) as exc:
        raise StorageError(f"cannot connect to {redacted(engine)}: {short_reason(exc)}") from None


def redacted(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def short_reason(exc: BaseException) -> str:
    """The first meaningful line of a driver error, without SQLAlchemy's boilerplate."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__
