"""How many rows tables hold: the start-up checks' view of a universe, without SQL outside ``monitor/``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


def row_counts(sessions: sessionmaker[Session], *tables: type[DeclarativeBase]) -> tuple[int, ...]:
    """The number of rows of each table, in order, read in one session."""
    with sessions() as session:
        return tuple(int(session.execute(select(func.count()).select_from(table)).scalar_one()) for table in tables)
