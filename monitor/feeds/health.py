"""Each feed's health as the shared ``feed_state`` table records it: what /readyz and the gauges report.

Read from the table rather than a process's memory: with two replicas only one polls a feed at a time, and both must
tell the truth about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.tables.documents import FeedState


@dataclass(frozen=True)
class FeedHealth:
    feed: str
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None


def read_feed_health(sessions: sessionmaker[Session]) -> dict[str, FeedHealth]:
    """Every polled feed's state; the database's own errors propagate (a probe reports them as not ready)."""
    with sessions() as session:
        session.execute(text("SELECT 1"))  # reachable at all, before the table is read
        rows = session.scalars(select(FeedState)).all()
        return {
            row.feed: FeedHealth(row.feed, row.last_success_at, row.consecutive_failures, row.last_error)
            for row in rows
        }
