"""Leases on the wall clock: renewed while a job runs, released or kept for a cooldown, reclaimed after a crash."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.leasing import LeaseKeeper
from monitor.clock import SystemClock
from monitor.db import leases
from monitor.db.leases import reclaim_local_leases
from monitor.db.tables import Lease as LeaseRow

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

Sessions = sessionmaker[Session]


def holders(sessions: Sessions) -> dict[str, str]:
    with sessions() as session:
        return {row.name: row.owner for row in session.scalars(select(LeaseRow))}


def expiry(sessions: Sessions, name: str) -> float:
    with sessions() as session:
        row = session.get(LeaseRow, name)
        assert row is not None
        return row.expires_at.timestamp()


def test_hold_release_and_skip(sessions: Sessions) -> None:
    first = LeaseKeeper(sessions, ttl=timedelta(seconds=30))
    second = LeaseKeeper(sessions, ttl=timedelta(seconds=30))
    with first.hold("poll_pi") as lease:
        assert lease is not None
        with second.hold("poll_pi") as other:
            assert other is None
    assert holders(sessions) == {}
    with second.hold("poll_pi") as lease:
        assert lease is not None


def test_cooldown_keeps_the_lease_after_the_run(sessions: Sessions) -> None:
    keeper = LeaseKeeper(sessions, ttl=timedelta(seconds=30))
    with keeper.hold("poll_fr", cooldown=timedelta(seconds=120)):
        pass
    assert holders(sessions) == {"poll_fr": keeper.owner}
    assert expiry(sessions, "poll_fr") - time.time() > 100


def test_the_heartbeat_renews_a_long_job(sessions: Sessions) -> None:
    keeper = LeaseKeeper(sessions, ttl=timedelta(seconds=0.6))
    with keeper.hold("update_studies"):
        first = expiry(sessions, "update_studies")
        time.sleep(0.5)
        assert expiry(sessions, "update_studies") > first  # renewed every ttl/3
        intruder = leases.acquire(
            sessions, "update_studies", "x:1:y", ttl=timedelta(seconds=5), now=SystemClock().now()
        )
        assert intruder is None


def test_a_crashed_predecessor_on_this_host_is_reclaimed(sessions: Sessions) -> None:
    host = socket.gethostname()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead_pid = int(dead.stdout)
    now, ttl = SystemClock().now(), timedelta(minutes=5)
    assert leases.acquire(sessions, "poll_pi", f"{host}:{dead_pid}:aaaa", ttl=ttl, now=now)
    assert leases.acquire(sessions, "poll_fr", f"{host}:{os.getpid()}:bbbb", ttl=ttl, now=now)  # same PID, old owner
    assert leases.acquire(sessions, "deliver_alerts", f"{host}:{os.getppid()}:cccc", ttl=ttl, now=now)  # alive
    assert leases.acquire(sessions, "refresh_prices", f"other-host:{dead_pid}:dddd", ttl=ttl, now=now)
    mine = leases.make_owner()
    assert leases.acquire(sessions, "update_studies", mine, ttl=ttl, now=now)
    assert reclaim_local_leases(sessions, mine) == ["poll_fr", "poll_pi"]
    assert set(holders(sessions)) == {"deliver_alerts", "refresh_prices", "update_studies"}
