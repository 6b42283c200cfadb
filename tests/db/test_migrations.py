"""Migrations: up from empty on both databases, idempotent, and in step with the table definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from monitor.db import migrate
from monitor.db.engine import make_engine
from monitor.db.tables import metadata
from monitor.errors import DatabaseNotMigrated

# Each test here migrates (or downgrades) a database of its own: the shared emptied one is what they vouch for.
pytestmark = pytest.mark.fresh_database


def test_schema_matches_table_definitions(engine: Engine) -> None:
    """A change to monitor/db/tables without a migration (or the reverse) fails here."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_from_empty_creates_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables
    assert migrate.status(engine).up_to_date


def test_second_upgrade_is_a_no_op(engine: Engine) -> None:
    head = migrate.head_revision()
    assert migrate.upgrade(engine) == (head, head)


def test_downgrade_to_empty_and_back(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    before, after = migrate.upgrade(engine)
    assert (before, after) == (None, migrate.head_revision())


def test_embedded_database_is_upgraded_on_first_use(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh' / 'monitor.db'}")
    assert migrate.status(engine).current is None
    state = migrate.ensure_schema(engine, auto_upgrade=True)
    assert state.up_to_date
    engine.dispose()


def test_shared_database_is_never_migrated_implicitly(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    with pytest.raises(DatabaseNotMigrated, match="run `monitor db upgrade`"):
        migrate.ensure_schema(engine, auto_upgrade=False)
    engine.dispose()


def test_shipped_head_read_from_the_files_is_alembics_head() -> None:
    """Every command checks the schema through ``shipped_head`` (no alembic import): it must agree with alembic."""
    assert migrate.shipped_head() == migrate.head_revision()


def test_current_schema_is_confirmed_without_alembic(engine: Engine) -> None:
    state = migrate.ensure_schema(engine, auto_upgrade=False)  # the fixture upgraded it: the quick answer holds
    assert (state.current, state.up_to_date) == (migrate.head_revision(), True)


def test_a_stale_schema_still_takes_alembics_path(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "-1")
    with pytest.raises(DatabaseNotMigrated, match="run `monitor db upgrade`"):
        migrate.ensure_schema(engine, auto_upgrade=False)
    assert migrate.ensure_schema(engine, auto_upgrade=True).up_to_date
