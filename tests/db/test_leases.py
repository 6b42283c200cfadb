"""Leases on both databases: one holder at a time, take-over after expiry, release only by the owner."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.db.leases import acquire, make_owner, release, renew

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def test_one_holder_at_a_time(sessions: sessionmaker[Session]) -> None:
    first = acquire(sessions, "poll_pi", "a", ttl=TTL, now=T0)
    assert first is not None
    assert acquire(sessions, "poll_pi", "b", ttl=TTL, now=T0 + timedelta(minutes=1)) is None
    assert acquire(sessions, "other_job", "b", ttl=TTL, now=T0) is not None


def test_holder_can_reacquire_and_renew(sessions: sessionmaker[Session]) -> None:
    lease = acquire(sessions, "deliver", "a", ttl=TTL, now=T0)
    assert lease is not None
    again = acquire(sessions, "deliver", "a", ttl=TTL, now=T0 + timedelta(minutes=1))
    assert again is not None
    assert again.expires_at == T0 + timedelta(minutes=6)
    renewed = renew(sessions, again, ttl=TTL, now=T0 + timedelta(minutes=4))
    assert renewed is not None
    assert renewed.expires_at == T0 + timedelta(minutes=9)
    assert acquire(sessions, "deliver", "b", ttl=TTL, now=T0 + timedelta(minutes=8)) is None


def test_expired_lease_is_taken_over_and_old_owner_cannot_release_it(sessions: sessionmaker[Session]) -> None:
    old = acquire(sessions, "backfill", "a", ttl=TTL, now=T0)
    assert old is not None
    new = acquire(sessions, "backfill", "b", ttl=TTL, now=T0 + TTL)
    assert new is not None
    assert new.owner == "b"
    assert renew(sessions, old, ttl=TTL, now=T0 + TTL) is None
    assert release(sessions, old) is False
    assert acquire(sessions, "backfill", "c", ttl=TTL, now=T0 + TTL + timedelta(seconds=1)) is None
    assert release(sessions, new) is True
    assert acquire(sessions, "backfill", "c", ttl=TTL, now=T0 + TTL + timedelta(seconds=1)) is not None


def test_racing_owners_get_exactly_one_lease(sessions: sessionmaker[Session]) -> None:
    owners = [make_owner() for _ in range(8)]
    winners: list[str] = []
    barrier = threading.Barrier(len(owners))

    def contend(owner: str) -> None:
        barrier.wait()
        if acquire(sessions, "race", owner, ttl=TTL, now=T0) is not None:
            winners.append(owner)

    threads = [threading.Thread(target=contend, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert len(set(owners)) == len(owners)


def test_an_owner_is_dead_only_when_this_host_proves_it() -> None:
    import os
    import socket
    import subprocess
    import sys

    from monitor.db.leases import owner_is_dead

    host = socket.gethostname()
    me = f"{host}:{os.getpid()}:aaaa0000"
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert owner_is_dead(f"{host}:{finished.pid}:bbbb1111", me)  # killed or exited: no such process any more
    assert owner_is_dead(f"{host}:{os.getpid()}:bbbb1111", me)  # our PID, not our id: a container restarted
    assert not owner_is_dead(me, me)
    assert not owner_is_dead(f"{host}:{os.getppid()}:bbbb1111", me)  # alive
    assert not owner_is_dead(f"elsewhere:{finished.pid}:bbbb1111", me)  # another host's PIDs are not ours
    assert not owner_is_dead("hand-written owner", me)
