"""Leases around the jobs that must run on one replica at a time, on the wall clock.

``LeaseKeeper.hold(name)`` yields the lease or ``None`` (another replica holds it: skip the run, which is normal).
While the job runs, a heartbeat thread renews the lease every third of its time to live, so a long job keeps it
and a crashed one loses it within ``ttl``. Afterwards the lease is released, or kept for a ``cooldown``: a poll
that just ran needs no other replica to repeat it a second later, so replicas take turns instead of doubling the
requests a feed sees.

Leases coordinate real processes, so they always use the wall clock, even when the daemon replays simulated time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import Clock, SystemClock
from monitor.db import leases
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
