"""The securities universe, its aliases, corporate links, exposures, and the matches made against it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.tables._common import utcnow
from monitor.db.types import JSONType, UTCDateTime


class SecurityRow(Base):
    __tablename__ = "securities"

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)  # Yahoo-style: AMBA, 002415.SZ, 0981.HK
    issuer_name: Mapped[str] = mapped_column(Text)
    exchange_mic: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    benchmark: Mapped[str] = mapped_column(String(32))
    listed_on: Mapped[date | None] = mapped_column(Date)  # first trading day, when known
    delisted_on: Mapped[date | None] = mapped_column(Date)  # first day it no longer traded, when delisted
    isin: Mapped[str | None] = mapped_column(String(12), index=True)  # links GLEIF ownership records to listings
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(64), default="seed")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SecurityAlias(Base):
    __tablename__ = "security_aliases"
    __table_args__ = (UniqueConstraint("security_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    security_id: Mapped[int] = mapped_column(ForeignKey("securities.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(Text)


class CorporateLink(Base):
    """An unlisted entity's control relation to a listed security (CETC is Hikvision's parent)."""

    __tablename__ = "corporate_links"
    __table_args__ = (UniqueConstraint("entity_name", "security_id", "relation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_name: Mapped[str] = mapped_column(Text)
    security_id: Mapped[int] = mapped_column(ForeignKey("securities.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # the entity's role: parent | subsidiary
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Exposure(Base):
    """A commercial tie between a listed security and a counterparty (which may itself be listed)."""

    __tablename__ = "exposures"
    __table_args__ = (UniqueConstraint("security_id", "counterparty", "relation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    security_id: Mapped[int] = mapped_column(ForeignKey("securities.id", ondelete="CASCADE"), index=True)
    counterparty: Mapped[str] = mapped_column(Text)
    relation: Mapped[str] = mapped_column(String(16))  # the counterparty's role towards the security
    weight: Mapped[float | None] = mapped_column(Float)  # revenue share, when disclosed
    source: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)  # the fiscal year the disclosed share is of
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MatchRow(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("listing_action_id", "security_id", "relation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_action_id: Mapped[int] = mapped_column(ForeignKey("listing_actions.id", ondelete="CASCADE"), index=True)
    security_id: Mapped[int] = mapped_column(ForeignKey("securities.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # the security's role towards the entity
    score: Mapped[float] = mapped_column(Float)
    confirmed: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    weight: Mapped[float | None] = mapped_column(Float)
    features: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
