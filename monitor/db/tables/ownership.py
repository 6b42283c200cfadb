"""GLEIF Level 1 and Level 2 data cached for matching: legal entities, who consolidates whom, which LEI a listing is.

Refreshed by ``monitor universe refresh --source gleif``, never fetched at match time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.tables._common import utcnow
from monitor.db.types import JSONType, UTCDateTime


class LeiRecord(Base):
    __tablename__ = "lei_records"

    lei: Mapped[str] = mapped_column(String(20), primary_key=True)
    legal_name: Mapped[str] = mapped_column(Text)
    other_names: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # other and transliterated names
    country: Mapped[str | None] = mapped_column(String(2))  # legal address country
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LeiRelationship(Base):
    """``child_lei`` IS_DIRECTLY (or ULTIMATELY) CONSOLIDATED_BY ``parent_lei``: accounting control."""

    __tablename__ = "lei_relationships"
    __table_args__ = (UniqueConstraint("child_lei", "parent_lei", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_lei: Mapped[str] = mapped_column(String(20), index=True)
    parent_lei: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # direct | ultimate
    start_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SecurityLei(Base):
    """The LEI of a listing's issuer, from GLEIF's ISIN-to-LEI records."""

    __tablename__ = "security_leis"
    __table_args__ = (UniqueConstraint("security_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    security_id: Mapped[int] = mapped_column(ForeignKey("securities.id", ondelete="CASCADE"))
    lei: Mapped[str] = mapped_column(String(20), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
