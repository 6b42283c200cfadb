"""Named leases in the database: how once-only work stays on one replica.

``acquire`` returns a ``Lease`` or ``None``; a lease already held by someone else means "skip this run", not a
failure. A lease expires after its time to live so a crashed holder cannot block others for long; an expired lease
can be taken over. ``renew`` extends it during long work and ``release`` deletes it, but only for its owner.
Works the same on SQLite and PostgreSQL: the insert is ON CONFLICT DO NOTHING and the take-over is a conditional
UPDATE, both atomic on either database.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import ensure_utc
from monitor.db.tables import Lease as LeaseRow
from monitor.db.upsert import upsert


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
