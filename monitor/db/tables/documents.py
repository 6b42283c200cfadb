"""Regulatory documents, the listing actions extracted from them, events, feed state and the CSL snapshot."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.tables._common import utcnow
from monitor.db.types import JSONType, UTCDateTime


class Document(Base):
    """One row per ``document_number``: the public-inspection and published versions merge into it.

    Every signal time is kept (``filed_at``, ``publication_date``, ``first_seen_at``, and when each feed first
    reported it) so detection latency can be measured and events dated by the earliest trustworthy signal.
    """

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_number: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(8))  # feed that first reported it: fr | pi | csl
    title: Mapped[str] = mapped_column(Text)
    document_type: Mapped[str | None] = mapped_column(String(64))
    agencies: Mapped[list[str]] = mapped_column(JSONType, default=list)
    abstract: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(String(64))
    start_page: Mapped[int | None] = mapped_column(Integer)  # FR pages, so a CSL citation maps to its rule
    end_page: Mapped[int | None] = mapped_column(Integer)
    cfr_parts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    html_url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    public_inspection_pdf_url: Mapped[str | None] = mapped_column(Text)
    full_text_xml_url: Mapped[str | None] = mapped_column(Text)
    raw_text_url: Mapped[str | None] = mapped_column(Text)
    filing_type: Mapped[str | None] = mapped_column(String(16))
    # Signal times.
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publication_date: Mapped[date | None] = mapped_column(Date)
    effective_on: Mapped[date | None] = mapped_column(Date)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pi_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Classification and extraction.
    is_entity_list: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    classification: Mapped[str | None] = mapped_column(Text)  # why it was (not) flagged
    parse_status: Mapped[str] = mapped_column(String(16), default="pending")
    parse_error: Mapped[str | None] = mapped_column(Text)
    pi_text: Mapped[str | None] = mapped_column(Text)  # the PI raw text (or its PDF's text), for name spotting
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # latest record per feed, as received
    # Durable pipeline work: a stored change the pipeline has not finished yet. Every change that needs the pipeline
    # bumps ``pipeline_revision`` and sets ``pipeline_due_since`` (if unset) in the transaction that stores it; the
    # pipeline clears ``pipeline_due_since`` in its own write transaction, only if the revision it read is current.
    pipeline_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pipeline_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ListingActionRow(Base):
    __tablename__ = "listing_actions"
    __table_args__ = (UniqueConstraint("document_id", "action", "country", "entity_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # order within the rule
    action: Mapped[str] = mapped_column(String(8))  # add | revise | remove
    entity_name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    country: Mapped[str] = mapped_column(String(128), default="")
    country_iso: Mapped[str | None] = mapped_column(String(2))
    addresses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    license_requirement: Mapped[str | None] = mapped_column(Text)
    license_review_policy: Mapped[str | None] = mapped_column(Text)
    federal_register_citation: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8))  # fr | pi | csl
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    """A rule's announcement; one per document. ``announced_at`` drives every security's day 0."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    announced_source: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    is_backfill: Mapped[bool] = mapped_column(Boolean, default=False)
    alerts_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedState(Base):
    """Per-feed cursor and health; what the readiness probe and freshness metrics read."""

    __tablename__ = "feed_state"

    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class CslEntry(Base):
    """The last stored snapshot of the Consolidated Screening List, diffed on every poll."""

    __tablename__ = "csl_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(128), unique=True)  # the list's own _id / id hash
    source_code: Mapped[str] = mapped_column(String(16), index=True)  # EL, SDN, DPL ...
    name: Mapped[str] = mapped_column(Text)
    alt_names: Mapped[list[str]] = mapped_column(JSONType, default=list)
    addresses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    countries: Mapped[list[str]] = mapped_column(JSONType, default=list)
    federal_register_notice: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    license_requirement: Mapped[str | None] = mapped_column(Text)
    license_policy: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
