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


def test_study_day_statuses_of_older_rows_come_from_the_halted_flag(engine: Engine) -> None:
    """0008 adds ``study_days.status``; rows stored before it keep what was known: halted, else traded."""
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import MetaData, insert, select
    from sqlalchemy.orm import Session

    from monitor.db.tables import Document, EventRow, Study

    moment = datetime(2019, 10, 7, 20, 30, tzinfo=UTC)
    with Session(engine) as session, session.begin():  # the parents, on today's schema
        document = Document(document_number="2019-22210", source="fr", title="x", first_seen_at=moment)
        session.add(document)
        session.flush()
        event = EventRow(document_id=document.id, announced_at=moment, announced_source="published", title="x")
        session.add(event)
        session.flush()
        study = Study(event_id=event.id, symbol="002415.SZ", benchmark="399001.SZ", model="market", estimation=250,
                      gap=10, window_start=-5, window_end=5)  # fmt: skip
        session.add(study)
        session.flush()
        study_id = study.id
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0007_delivery_claim_owner")
    old = MetaData()
    old.reflect(engine, only=["study_days"])
    with engine.begin() as connection:  # day rows as a build before 0008 stored them
        for rel, halted in ((-1, False), (0, True)):
            day = {"study_id": study_id, "rel_day": rel, "date": date(2019, 10, 8 + rel), "sessions": 1}
            connection.execute(insert(old.tables["study_days"]).values(**day, halted=halted))
    migrate.upgrade(engine)
    days = metadata.tables["study_days"]
    with engine.connect() as connection:
        rows = connection.execute(select(days.c.rel_day, days.c.status).order_by(days.c.rel_day)).all()
    assert [tuple(row) for row in rows] == [(-1, "traded"), (0, "halted")]
