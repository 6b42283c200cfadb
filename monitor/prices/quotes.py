"""The last price and the move since an announcement, for the Slack "detected" alert.

A rule filed after the US close moves a US stock in after-hours trading long before the next session, so where the
source has intraday trades with extended hours (yfinance, 5-minute bars with ``prepost=True``) the quote uses
them: the reference is the last trade before the announcement, the price the last trade up to ``now``. A source
with daily bars only (a CSV directory) gives the last close at or before ``now`` against the last close before
day 0. Bars after ``now`` are ignored, so a backfill with a simulated clock sees what a trader saw then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from monitor.clock import ensure_utc
from monitor.errors import CalendarOutOfRange, InputError, NoPriceData, PriceSourceUnavailable, RateLimited
from monitor.logs import get_logger
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import is_index, listing, normalise_symbol
from monitor.prices.sources import PriceSource

log = get_logger(__name__)

INTRADAY_BAR = timedelta(minutes=5)
INTRADAY_REACH = timedelta(days=55)  # Yahoo keeps 5-minute bars for 60 days; older announcements use daily bars
_LOOKBACK = timedelta(days=6)  # reaches the previous session's trades across a long weekend


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    price: float  # last trade (intraday) or last close (daily) at or before ``now``
    at: datetime  # when that price was made, UTC
    reference_price: float | None  # last trade / close before the announcement
    reference_at: datetime | None
    move: float | None  # price / reference_price − 1; None when nothing has traded since the announcement
    extended_hours: bool  # ``price`` came from pre- or post-market trading
    source: str
    currency: str | None = None
    halted: bool = False  # the latest finished session had no trading (suspension): ``price`` is older


def last_quote(
    source: PriceSource,
    symbol: str,
    announced_at: datetime,
    *,
    now: datetime,
    calendars: Calendars,
    mic: str | None = None,
) -> Quote | None:
    """The quote for the alert, or None when the source has nothing usable (never raises for source trouble)."""
    symbol = normalise_symbol(symbol)
    announced_at = ensure_utc(announced_at, name="announced_at")
    now = ensure_utc(now, name="now")
    calendar = listing(symbol, mic=mic).calendar
    try:
        intraday = getattr(source, "intraday", None)
        if callable(intraday) and now - announced_at < INTRADAY_REACH:
            try:
                trades = intraday(symbol, announced_at - _LOOKBACK)
            except RateLimited:
                raise
            except (NoPriceData, PriceSourceUnavailable) as exc:  # no intraday data: daily bars still answer
                log.info("quote_intraday_unavailable", symbol=symbol, error=str(exc))
            else:
                quote = _from_intraday(symbol, trades, announced_at, now, calendars, calendar, source.name)
                if quote is not None:
                    return quote
        return _from_daily(source, symbol, announced_at, now, calendars, calendar)
    except (NoPriceData, PriceSourceUnavailable, CalendarOutOfRange) as exc:
        log.warning("quote_unavailable", symbol=symbol, error=str(exc))
        return None


def _from_intraday(
    symbol: str,
    trades: pd.DataFrame,
    announced_at: datetime,
    now: datetime,
    calendars: Calendars,
    calendar: str,
    source_name: str,
) -> Quote | None:
    if trades.empty:
        return None
    ends = pd.DatetimeIndex(trades.index) + INTRADAY_BAR
    known = trades[ends <= pd.Timestamp(now)]
    if known.empty:
        return None
    before = known[(pd.DatetimeIndex(known.index) + INTRADAY_BAR) <= pd.Timestamp(announced_at)]
    last_at = pd.Timestamp(known.index[-1])
    price = float(known["price"].iloc[-1])
    reference_price = float(before["price"].iloc[-1]) if not before.empty else None
    reference_at = (pd.Timestamp(before.index[-1]) + INTRADAY_BAR).to_pydatetime() if not before.empty else None
    traded_since = last_at + INTRADAY_BAR > pd.Timestamp(announced_at)
    move = price / reference_price - 1.0 if reference_price and traded_since else None
    regular = calendars.calendar(calendar).is_open_on_minute(last_at, ignore_breaks=True)
    return Quote(
        symbol=symbol,
        price=price,
        at=(last_at + INTRADAY_BAR).to_pydatetime(),
        reference_price=reference_price,
        reference_at=reference_at,
        move=move,
        extended_hours=not bool(regular),
        source=source_name,
    )


def _from_daily(
    source: PriceSource, symbol: str, announced_at: datetime, now: datetime, calendars: Calendars, calendar: str
) -> Quote | None:
    day0 = calendars.day0_on(calendar, announced_at)
    bars = source.history(symbol, start=(announced_at - timedelta(days=15)).date(), end=None)
    if bars.empty:
        return None
    bars = bars[calendars.final_mask(calendar, pd.DatetimeIndex(bars.index), now, 0) & bars["close"].notna().to_numpy()]
    if bars.empty:
        return None
    halted = not is_index(symbol) and bool(bars["volume"].iloc[-1] == 0)
    if not is_index(symbol):
        bars = bars[bars["volume"] != 0]  # a suspended day's flat row is not a trade
        if bars.empty:
            return None
    before = bars[bars.index < pd.Timestamp(day0)]
    last_day = pd.Timestamp(bars.index[-1]).date()
    price = float(bars["close"].iloc[-1])
    reference_price = float(before["close"].iloc[-1]) if not before.empty else None
    reference_at = _close_at(calendars, calendar, pd.Timestamp(before.index[-1]).date()) if not before.empty else None
    move = price / reference_price - 1.0 if reference_price and last_day >= day0 else None
    return Quote(
        symbol=symbol,
        price=price,
        at=_close_at(calendars, calendar, last_day),
        reference_price=reference_price,
        reference_at=reference_at,
        move=move,
        extended_hours=False,
        source=source.name,
        currency=bars.attrs.get("currency"),
        halted=halted,
    )


def _close_at(calendars: Calendars, calendar: str, day: date) -> datetime:
    """The session's close; for a bar on a date the calendar does not know, the end of that local day."""
    try:
        return calendars.session_close(calendar, day)
    except (InputError, CalendarOutOfRange):
        tz = calendars.calendar(calendar).tz
        end: datetime = (pd.Timestamp(day).tz_localize(tz) + pd.Timedelta(days=1)).tz_convert("UTC").to_pydatetime()
        return end
