"""A database as comparable data: every table's rows with surrogate ids replaced by natural keys.

Two runs that did the same work must give equal snapshots, whatever order they inserted in (ids differ) and
whenever they ran (bookkeeping timestamps differ). Everything else is compared: documents, listing actions,
events, matches, studies and their days, statistics, prices, alerts.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine, Table, select

import monitor.db.tables  # noqa: F401  (registers every table)
from monitor.db.base import Base

# When a row was written or fetched, not what it says. ``created_at`` of an event is its (simulated) arrival and
# would compare equal, but listing actions and alerts stamp the wall clock.
BOOKKEEPING = frozenset(
    {
        "first_seen_at",
        "pi_seen_at",
        "published_seen_at",
        "updated_at",
        "fetched_at",
        "last_fetch_at",
        "full_refresh_at",
        "last_attempt_at",
        "last_success_at",
        "created_at",
    }
)
SKIPPED_COLUMNS = {("feed_state", "cursor")}  # the poller's record of its last poll (e.g. how many were new)


def natural_key(table: Table) -> tuple[str, ...]:
    for constraint in table.constraints:
        if constraint.__class__.__name__ == "UniqueConstraint":
            return tuple(constraint.columns.keys())
    return tuple(table.primary_key.columns.keys())


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 12) if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return tuple(sorted((k, _normal(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = {table.name: table for table in Base.metadata.sorted_tables}
    raw: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for name, table in tables.items():
            raw[name] = [dict(row._mapping) for row in connection.execute(select(table))]
    by_id = {name: {row["id"]: row for row in rows if "id" in row} for name, rows in raw.items()}
    resolved: dict[tuple[str, Any], Any] = {}

    def key_of(name: str, row_id: Any) -> Any:
        cache_key = (name, row_id)
        if cache_key not in resolved:
            row = by_id[name][row_id]
            resolved[cache_key] = tuple(value_of(name, column, row[column]) for column in natural_key(tables[name]))
        return resolved[cache_key]

    def value_of(name: str, column: str, value: Any) -> Any:
        foreign = list(tables[name].columns[column].foreign_keys)
        if foreign and value is not None:
            return key_of(foreign[0].column.table.name, value)
        return _normal(value)

    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, table in tables.items():
        columns = [
            c.name
            for c in table.columns
            if c.name != "id" and c.name not in BOOKKEEPING and (name, c.name) not in SKIPPED_COLUMNS
        ]
        rows = [tuple((column, value_of(name, column, row[column])) for column in columns) for row in raw[name]]
        out[name] = sorted(rows, key=repr)
    return out


def differences(first: dict[str, list[tuple[Any, ...]]], second: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Human-readable differences, table by table (empty when the snapshots are equal)."""
    problems: list[str] = []
    for name in sorted(set(first) | set(second)):
        a, b = first.get(name, []), second.get(name, [])
        if a != b:
            only_a = [row for row in a if row not in b][:3]
            only_b = [row for row in b if row not in a][:3]
            problems.append(f"{name}: {len(a)} vs {len(b)} rows; only first {only_a}; only second {only_b}")
    return problems
