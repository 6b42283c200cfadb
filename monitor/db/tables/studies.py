"""Event-study results: one study per (event, security), its per-day rows, and per-group event statistics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.tables._common import utcnow
from monitor.db.types import JSONType, UTCDateTime


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (UniqueConstraint("event_id", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    relation: Mapped[str | None] = mapped_column(String(16))  # strongest relation that brought it in
    benchmark: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    day0: Mapped[date | None] = mapped_column(Date)
    day0_halted: Mapped[bool] = mapped_column(Boolean, default=False)
    reaction_date: Mapped[date | None] = mapped_column(Date)  # first traded session covering day 0 (halts)
    through_date: Mapped[date | None] = mapped_column(Date)  # last event-window session included so far
    model: Mapped[str] = mapped_column(String(20))
    estimation: Mapped[int] = mapped_column(Integer)
    gap: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[int] = mapped_column(Integer)
    window_end: Mapped[int] = mapped_column(Integer)
    alpha: Mapped[float | None] = mapped_column(Float)
    beta: Mapped[float | None] = mapped_column(Float)
    sigma: Mapped[float | None] = mapped_column(Float)
    n_estimation: Mapped[int | None] = mapped_column(Integer)
    car: Mapped[float | None] = mapped_column(Float)
    car_variance: Mapped[float | None] = mapped_column(Float)
    car_t: Mapped[float | None] = mapped_column(Float)
    car_p: Mapped[float | None] = mapped_column(Float)  # two-sided, t(n_estimation - model parameters)
    bhar: Mapped[float | None] = mapped_column(Float)
    sub_windows: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # "[0,1]" -> {car, variance, t}
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StudyDay(Base):
    __tablename__ = "study_days"
    __table_args__ = (UniqueConstraint("study_id", "rel_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    rel_day: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    ret: Mapped[float | None] = mapped_column(Float)  # trade-to-trade simple return ending this session
    benchmark_return: Mapped[float | None] = mapped_column(Float)  # compounded over the same sessions
    ar: Mapped[float | None] = mapped_column(Float)  # None on a halted session: never a zero
    ar_t: Mapped[float | None] = mapped_column(Float)  # AR over its standard error (prediction-error term included)
    car: Mapped[float | None] = mapped_column(Float)
    sessions: Mapped[int] = mapped_column(Integer, default=1)  # sessions the return spans (halts, holidays)
    halted: Mapped[bool] = mapped_column(Boolean, default=False)
    # What happened that session (monitor.models.DayStatus): traded, halted, bad_price, suspect, benchmark_gap …
    status: Mapped[str] = mapped_column(String(16), default="traded", server_default="traded")


class EventStatistic(Base):
    """Aggregate statistics for one event and one group of its securities (all, direct, supplier ...)."""

    __tablename__ = "event_statistics"
    __table_args__ = (UniqueConstraint("event_id", "group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    group_key: Mapped[str] = mapped_column(String(32))
    n: Mapped[int] = mapped_column(Integer)
    caar: Mapped[float | None] = mapped_column(Float)
    aar: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    tests: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
