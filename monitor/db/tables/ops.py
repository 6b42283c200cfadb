"""Operational state: leases that keep once-only jobs to one replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.types import UTCDateTime


class Lease(Base):
    """A named lease: the holder runs the job; an expired lease can be taken over."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
