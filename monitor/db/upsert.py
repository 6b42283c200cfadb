"""Idempotent writes: one INSERT ... ON CONFLICT helper for SQLite and PostgreSQL.

Every write in the product goes through a natural key, so running a job twice, or two replicas at once, never
duplicates a row. Columns fall in four groups: the conflict ``key``; ``insert_only`` columns written once (first
seen times); ``fill_nulls`` columns that keep an existing value and only fill a gap; and every other column,
which the new row overwrites, unless it is in ``prefer_new`` where a new NULL never erases a stored value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from monitor.db.tables._common import utcnow
from monitor.errors import StorageError

# Rows handed to one executemany call (SQLAlchemy pages each call into INSERTs within the drivers' limits).
_ROWS_PER_CALL = 5_000


def upsert(
    session: Session,
    model: type[DeclarativeBase],
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str],
    insert_only: Sequence[str] = (),
    fill_nulls: Sequence[str] = (),
    prefer_new: Sequence[str] = (),
    do_nothing: bool = False,
) -> int:
    """Insert ``rows`` or update them on a ``key`` conflict; returns the number of rows written."""
    table: Table = model.__table__  # type: ignore[assignment]
    batch = [dict(row) for row in rows]
    if not batch:
        return 0
    columns = list(batch[0])
    for number, row in enumerate(batch):
        if list(row) != columns:
            raise ValueError(f"row {number} has columns {sorted(row)}, expected {sorted(columns)}")
    unknown = [name for name in [*columns, *key] if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    statement = _statement(
        _dialect_insert(session), table, tuple(columns), key, insert_only, fill_nulls, prefer_new, do_nothing
    )
    # One statement for every batch size: executemany with RETURNING goes through SQLAlchemy's "insertmanyvalues",
    # which pages the rows into multi-row INSERTs itself, so the statement compiles once per table and shape (and
    # is cached) instead of once per chunk length. RETURNING counts the rows actually written on both databases (a
    # bare rowcount is -1 under psycopg); a conflicting row skipped by DO NOTHING returns nothing.
    written = 0
    for start in range(0, len(batch), _ROWS_PER_CALL):
        written += len(session.execute(statement, batch[start : start + _ROWS_PER_CALL]).all())
    return written


def _statement(
    insert: Any,
    table: Table,
    columns: tuple[str, ...],
    key: Sequence[str],
    insert_only: Sequence[str],
    fill_nulls: Sequence[str],
    prefer_new: Sequence[str],
    do_nothing: bool,
) -> Any:
    statement = insert(table)
    excluded = statement.excluded
    assignments: dict[str, Any] = {}
    if not do_nothing:
        for name in columns:
            if name in key or name in insert_only:
                continue
            if name in fill_nulls:
                assignments[name] = func.coalesce(table.c[name], excluded[name])
            elif name in prefer_new:
                assignments[name] = func.coalesce(excluded[name], table.c[name])
            else:
                assignments[name] = excluded[name]
        if assignments and "updated_at" in table.c and "updated_at" not in columns:
            assignments["updated_at"] = utcnow()
    if assignments:
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=assignments)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.returning(*table.primary_key.columns)


def upsert_returning_id(
    session: Session, model: type[DeclarativeBase], row: Mapping[str, Any], *, key: Sequence[str], **options: Any
) -> int:
    """Upsert one row and return its primary key, whether it was inserted or already there."""
    upsert(session, model, [row], key=key, **options)
    table: Table = model.__table__  # type: ignore[assignment]
    condition = [table.c[name] == row[name] for name in key]
    found = session.execute(select(table.c.id).where(*condition)).scalar_one()
    return int(found)


def _dialect_insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise StorageError(f"upsert supports sqlite and postgresql, not {name}")
