"""The prices a ``detected`` card shows: last price and move since the announcement, within a time budget.

A slow or throttled price source delays an alert by seconds at most: quotes are fetched before the card's
transaction, one security after another, until the budget is spent or the source refuses (a rate limit), and the
card goes out with what arrived.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.errors import MonitorError
from monitor.logs import get_logger
from monitor.models import Match, Security

if TYPE_CHECKING:
    from monitor.prices.calendars import Calendars
    from monitor.prices.quotes import Quote
    from monitor.prices.sources import PriceSource

log = get_logger(__name__)


def fetch_quotes(
    source: PriceSource,
    best: Mapping[str, Match],
    securities: Mapping[str, Security],
    announced_at: datetime,
    *,
    now: datetime,
    calendars: Calendars,
    budget_seconds: float,
) -> dict[str, Quote]:
    """Last price and move since the announcement for the confirmed securities, within the time budget."""
    from monitor.prices.quotes import last_quote

    quotes: dict[str, Quote] = {}
    deadline = time.monotonic() + budget_seconds
    for symbol, match in best.items():
        if not match.confirmed or symbol not in securities:
            continue
        if time.monotonic() > deadline:
            log.warning("quote_budget_exhausted", remaining=symbol)
            break
        try:
            quote = last_quote(
                source,
                symbol,
                announced_at,
                now=now,
                calendars=calendars,
                mic=securities[symbol].exchange_mic,
            )
        except MonitorError as exc:  # a rate limit: the alert goes out without prices rather than late
            log.warning("quote_failed", symbol=symbol, error=str(exc))
            break
        if quote is not None:
            quotes[symbol] = quote
    return quotes


__all__ = ["Quote", "fetch_quotes"]
