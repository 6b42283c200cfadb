"""SQLite transactions from several threads: a read-then-write transaction waits for the other writer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables import Lease


def test_read_then_write_does_not_fail_with_database_is_locked(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    has_read = threading.Event()
    errors: list[BaseException] = []

    def read_then_write() -> None:
        try:
            with sessions.begin() as session:
                session.execute(select(func.count()).select_from(Lease)).scalar_one()
                has_read.set()
                time.sleep(0.3)  # another thread wants to write meanwhile
                session.add(Lease(name="a", owner="x", acquired_at=now, expires_at=now + timedelta(minutes=1)))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    def write() -> None:
        has_read.wait(5)
        try:
            with sessions.begin() as session:
                session.add(Lease(name="b", owner="y", acquired_at=now, expires_at=now + timedelta(minutes=1)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read_then_write), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    engine.dispose()
    assert errors == []


def test_a_reader_does_not_wait_behind_a_writer(tmp_path: Path) -> None:
    """Issue 16 item 6: /readyz took 30 s (busy_timeout) while another connection held the write lock."""
    from sqlalchemy import text

    from jobs.health import read_feed_health
    from monitor.db.engine import read_only_sessions

    engine = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    writer = engine.connect()
    try:
        writer.begin()  # BEGIN IMMEDIATE: the write lock a job's transaction holds while it works
        writer.execute(
            text("INSERT INTO leases (name, owner, acquired_at, expires_at) VALUES ('w', 'x', :a, :b)"),
            {"a": now, "b": now + timedelta(minutes=1)},
        )
        started = time.monotonic()
        assert read_feed_health(read_only_sessions(sessions)) == {}
        with read_only_sessions(sessions)() as session:
            assert session.execute(select(func.count()).select_from(Lease)).scalar_one() == 0  # its snapshot
        assert time.monotonic() - started < 2.0
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()
