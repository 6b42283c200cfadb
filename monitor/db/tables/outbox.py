"""The alert outbox: alerts are written with the facts they report, then delivered per sink."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.tables._common import utcnow
from monitor.db.types import JSONType, UTCDateTime


class AlertRow(Base):
    """One alert; ``dedup_key`` = event, security or group, stage. Inserting it twice is a no-op."""

    __tablename__ = "alert_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str | None] = mapped_column(String(32))
    group_key: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertDelivery(Base):
    """Delivery of one alert to one sink, so a failing sink never blocks the others."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "sink"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert_outbox.id", ondelete="CASCADE"), index=True)
    sink: Mapped[str] = mapped_column(String(16))  # slack | console | webhook
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    # Who holds the claim (``monitor.db.leases`` owner id: host, PID, random suffix), so a restarted worker can take
    # over at once the claims of a predecessor that provably died instead of waiting out the claim timeout.
    claim_owner: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(64))  # e.g. the Slack message ts
    channel: Mapped[str | None] = mapped_column(String(64))
    thread_ref: Mapped[str | None] = mapped_column(String(64))  # the root message a follow-up replies to
    # What this sink gets, decided when the alert was enqueued: {"symbols": [...] | null, "hidden_entities": [...]}.
    routing: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What the sink answered so far (message ts, file id, HTTP status), committed step by step so a retry
    # after a crash resumes instead of repeating a step the sink already accepted.
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
