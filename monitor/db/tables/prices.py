"""Our own price store: daily bars keyed by (symbol, date), and per-symbol sync state."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db.base import Base
from monitor.db.tables._common import utcnow
from monitor.db.types import UTCDateTime


class DailyPrice(Base):
    """One session's bar; raw close and adjusted close both kept, since adjustments change retroactively."""

    __tablename__ = "daily_prices"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)  # exchange-local session date
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float | None] = mapped_column(Float)
    adj_close: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)
    dividends: Mapped[float] = mapped_column(Float, default=0.0)
    splits: Mapped[float] = mapped_column(Float, default=0.0)
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PriceSyncState(Base):
    __tablename__ = "price_sync_state"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_session: Mapped[date | None] = mapped_column(Date)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    full_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The start the last full fetch asked the source for (FULL_HISTORY: everything it has). Stored bars that
    # begin later than a study wants are then the source's whole answer, not a reason to fetch again.
    history_since: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | degraded | no_data | error
    last_error: Mapped[str | None] = mapped_column(Text)
