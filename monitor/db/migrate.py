"""Schema migrations shipped inside the package, applied by ``monitor db upgrade`` or on first use.

The embedded SQLite database is upgraded automatically by every command, so a newcomer never runs a migration by
hand. A PostgreSQL database is shared infrastructure: commands refuse to touch it until an operator has run
``monitor db upgrade``, and concurrent upgrades are serialised with an advisory lock.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from monitor.db.engine import redacted, short_reason
from monitor.db.revisions import shipped_head
from monitor.errors import DatabaseNotMigrated, StorageError

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x454E544C  # "ENTL"
_VERSION_TABLE = "alembic_version"  # alembic's default, which env.py keeps


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError("the package ships no migrations")
    return head


@dataclass(frozen=True)
class SchemaStatus:
    url: str
    dialect: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _quick_status(engine: Engine) -> SchemaStatus | None:
    """The schema's state read with one query and no alembic import; None when only alembic can say."""
    head = shipped_head()
    if head is None:
        return None
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(_VERSION_TABLE):
                return None
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise StorageError(f"cannot connect to {redacted(engine)}: {short_reason(exc)}") from None
    if len(rows) != 1:
        return None  # empty, or several heads: alembic's answer (and its errors) apply
    return SchemaStatus(redacted(engine), engine.dialect.name, str(rows[0]), head)


def status(engine: Engine) -> SchemaStatus:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise StorageError(f"cannot connect to {redacted(engine)}: {short_reason(exc)}") from None
    return SchemaStatus(redacted(engine), engine.dialect.name, current, head_revision())


def check_writable(engine: Engine) -> None:
    """Refuse a database the monitor cannot write (a read-only SQLite file or data directory, a read-only
    PostgreSQL replica) with one line, before a daemon starts jobs that would each fail on their first write. The
    probe deletes nothing (no lease has its name) and is rolled back."""
    from sqlalchemy import text

    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text("DELETE FROM leases WHERE name = :name"), {"name": "(write probe)"})
            transaction.rollback()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise StorageError(
            f"cannot write to {redacted(engine)}: {short_reason(exc)} (is the database or its directory read-only?)"
        ) from None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply pending migrations; returns (revision before, revision after). A second run is a no-op."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    try:
        with _exclusive(engine), engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(alembic_config(connection), revision)
            after = MigrationContext.configure(connection).get_current_revision()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise StorageError(f"cannot migrate {redacted(engine)}: {short_reason(exc)}") from None
    return before, after


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> SchemaStatus:
    """Make sure the schema is current: upgrade the embedded database, refuse on a stale shared one.

    The usual case (already current) is answered without alembic; anything else takes alembic's full path.
    """
    quick = _quick_status(engine)
    if quick is not None and quick.up_to_date:
        return quick
    current = status(engine)
    if current.up_to_date:
        return current
    if auto_upgrade:
        upgrade(engine)
        return status(engine)
    from alembic.script import ScriptDirectory

    known = ScriptDirectory.from_config(alembic_config())
    if current.current is not None and known.get_revision(current.current) is None:
        raise DatabaseNotMigrated(
            f"database {current.url} is at revision {current.current}, which this version does not know; "
            "upgrade the monitor package"
        )
    raise DatabaseNotMigrated(
        f"database {current.url} is at revision {current.current or 'none (empty)'}, code expects {current.head}; "
        "run `monitor db upgrade`"
    )


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """One migrator at a time: a PostgreSQL advisory lock, or a lock file beside the SQLite database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).expanduser().with_suffix(".migrate.lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
