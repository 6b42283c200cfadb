"""Leases around the jobs that must run on one replica at a time, on the wall clock.

``LeaseKeeper.hold(name)`` yields the lease or ``None`` (another replica holds it: skip the run, which is normal).
While the job runs, a heartbeat thread renews the lease every third of its time to live, so a long job keeps it
and a crashed one loses it within ``ttl``. Afterwards the lease is released, or kept for a ``cooldown``: a poll
that just ran needs no other replica to repeat it a second later, so replicas take turns instead of doubling the
requests a feed sees.

Leases coordinate real processes, so they always use the wall clock, even when the daemon replays simulated time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor import leases
from monitor.clock import Clock, SystemClock
from monitor.db.tables import Lease as LeaseRow
from monitor.logs import get_logger

log = get_logger(__name__)


class LeaseKeeper:
    """Acquires, renews and releases named leases for one process (one owner id for all its jobs)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl: timedelta,
        owner: str | None = None,
        wall: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.owner = owner or leases.make_owner()
        self.wall = wall or SystemClock()

    @contextmanager
    def hold(self, name: str, *, cooldown: timedelta | None = None) -> Iterator[leases.Lease | None]:
        lease = leases.acquire(self.sessions, name, self.owner, ttl=self.ttl, now=self.wall.now())
        if lease is None:
            yield None
            return
        done = threading.Event()
        heartbeat = threading.Thread(target=self._renew_until, args=(lease, done), name=f"lease:{name}", daemon=True)
        heartbeat.start()
        try:
            yield lease
        finally:
            done.set()
            heartbeat.join(timeout=5)
            self._let_go(lease, cooldown)

    def _renew_until(self, lease: leases.Lease, done: threading.Event) -> None:
        interval = self.ttl.total_seconds() / 3
        while not done.wait(interval):
            try:
                renewed = leases.renew(self.sessions, lease, ttl=self.ttl, now=self.wall.now())
            except SQLAlchemyError as exc:  # the database blinked; the next beat tries again
                log.warning("lease_renew_failed", lease=lease.name, error=str(exc).splitlines()[0])
                continue
            if renewed is None:
                log.warning("lease_lost", lease=lease.name, owner=lease.owner)
                return

    def _let_go(self, lease: leases.Lease, cooldown: timedelta | None) -> None:
        try:
            if cooldown is not None and cooldown > timedelta(0):
                leases.renew(self.sessions, lease, ttl=cooldown, now=self.wall.now())
            else:
                leases.release(self.sessions, lease)
        except SQLAlchemyError as exc:  # it expires by itself within ttl
            log.warning("lease_release_failed", lease=lease.name, error=str(exc).splitlines()[0])


def reclaim_local_leases(sessions: sessionmaker[Session], owner: str) -> list[str]:
    """Delete leases left by dead processes of this host (a crash, a SIGKILL), so a restart need not wait out
    their time to live. A lease of a live process, or of another host, is never touched. In a container the new
    process often has the dead one's PID (1); a lease with our own host and PID but not our owner id is therefore
    a predecessor's."""
    host, pid = _host_pid(owner)
    reclaimed: list[str] = []
    with sessions.begin() as session:
        for row in session.scalars(select(LeaseRow)):
            other_host, other_pid = _host_pid(row.owner)
            if other_host != host or row.owner == owner or other_pid is None:
                continue
            if other_pid == pid or not _alive(other_pid):
                session.execute(delete(LeaseRow).where(LeaseRow.name == row.name, LeaseRow.owner == row.owner))
                reclaimed.append(row.name)
    if reclaimed:
        log.info("leases_reclaimed", leases=sorted(reclaimed), host=host)
    return sorted(reclaimed)


def _host_pid(owner: str) -> tuple[str, int | None]:
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return owner, None
    return parts[0], int(parts[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
