"""Named leases in the database: how once-only work stays on one replica.

``acquire`` returns a ``Lease`` or ``None``; a lease already held by someone else means "skip this run", not a
failure. A lease expires after its time to live so a crashed holder cannot block others for long; an expired lease
can be taken over. ``renew`` extends it during long work and ``release`` deletes it, but only for its owner;
``reclaim_local_leases`` clears those a dead process of this host left behind, at a daemon's start.
Works the same on SQLite and PostgreSQL: the insert is ON CONFLICT DO NOTHING and the take-over is a conditional
UPDATE, both atomic on either database.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import ensure_utc
from monitor.db.tables import Lease as LeaseRow
from monitor.db.upsert import upsert
from monitor.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    expires_at: datetime


def make_owner() -> str:
    """A unique, readable owner id: host, pid and a random suffix (two threads of one process differ too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(sessions: sessionmaker[Session], name: str, owner: str, *, ttl: timedelta, now: datetime) -> Lease | None:
    now = ensure_utc(now, name="now")
    expires = now + ttl
    with sessions.begin() as session:
        row = {"name": name, "owner": owner, "acquired_at": now, "expires_at": expires}
        if upsert(session, LeaseRow, [row], key=["name"], do_nothing=True):
            return Lease(name, owner, expires)
        taken = session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, or_(LeaseRow.expires_at <= now, LeaseRow.owner == owner))
            .values(owner=owner, acquired_at=now, expires_at=expires)
            .returning(LeaseRow.name)
        ).first()
        if taken is not None:
            return Lease(name, owner, expires)
    return None


def renew(sessions: sessionmaker[Session], lease: Lease, *, ttl: timedelta, now: datetime) -> Lease | None:
    """Extend our lease; ``None`` means someone took it over after it expired, so stop the work."""
    now = ensure_utc(now, name="now")
    expires = now + ttl
    with sessions.begin() as session:
        renewed = session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == lease.name, LeaseRow.owner == lease.owner)
            .values(expires_at=expires)
            .returning(LeaseRow.name)
        ).first()
    return Lease(lease.name, lease.owner, expires) if renewed is not None else None


def release(sessions: sessionmaker[Session], lease: Lease) -> bool:
    """Give the lease up; never deletes a lease that another owner holds now."""
    with sessions.begin() as session:
        deleted = session.execute(
            delete(LeaseRow).where(LeaseRow.name == lease.name, LeaseRow.owner == lease.owner).returning(LeaseRow.name)
        ).first()
    return deleted is not None


_process_owner: tuple[int, str] | None = None


def process_owner() -> str:
    """One owner id for this whole process (made again after a fork): what the outbox's claims record, so two
    workers of one process never take each other for a dead predecessor."""
    global _process_owner
    if _process_owner is None or _process_owner[0] != os.getpid():
        _process_owner = (os.getpid(), make_owner())
    return _process_owner[1]


def owner_is_dead(owner: str, me: str) -> bool:
    """Whether ``owner`` is provably a dead process, as seen by the live owner ``me``: a process of this host that
    no longer runs (a crash, a SIGKILL), or one whose PID is ours under another owner id (in a container the new
    process often has the dead one's PID, 1). An owner of another host, or one we cannot read, is never presumed
    dead: its work waits out its time to live."""
    host, pid = _host_pid(me)
    other_host, other_pid = _host_pid(owner)
    if other_host != host or owner == me or other_pid is None:
        return False
    return other_pid == pid or not _alive(other_pid)


def reclaim_local_leases(sessions: sessionmaker[Session], owner: str) -> list[str]:
    """Delete leases left by dead processes of this host (``owner_is_dead``), so a restart need not wait out their
    time to live. A lease of a live process, or of another host, is never touched."""
    host, _ = _host_pid(owner)
    reclaimed: list[str] = []
    with sessions.begin() as session:
        for row in session.scalars(select(LeaseRow)):
            if owner_is_dead(row.owner, owner):
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
