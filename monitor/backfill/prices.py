"""The bars a backfill needs, and fetching only what the price store does not already hold.

Decide, then act: ``price_needs`` works out, from the stored studies, which symbols (securities and their
benchmarks) need bars over which sessions; ``uncovered`` compares that with what is stored; only those are
refreshed, each from the start its placebo history wants. A store that already covers the range (a rerun, or
prices loaded beforehand) costs one query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.backfill.timing import last_window_session
from monitor.db.tables import DailyPrice, SecurityRow, Study
from monitor.errors import MonitorError
from monitor.pipeline.studies import SESSION_DAYS
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing
from monitor.prices.sources import PriceSource
from monitor.prices.store import PriceStore, RefreshResult
from monitor.study import StudyParams

FETCH_SLACK_DAYS = 10  # calendar days fetched before the first session needed (holidays, a late first bar)


@dataclass(frozen=True)
class PriceNeed:
    symbol: str
    mic: str | None
    fetch_from: date  # where a refresh starts: the placebo history included
    first: date  # first session the estimation window needs
    last: date  # the event window's last session

    def widened(self, other: PriceNeed) -> PriceNeed:
        return PriceNeed(
            self.symbol,
            self.mic or other.mic,
            min(self.fetch_from, other.fetch_from),
            min(self.first, other.first),
            max(self.last, other.last),
        )


def _session_before(calendars: Calendars, calendar: str, day0: date, count: int) -> date:
    """The session ``count`` sessions before ``day0`` (or the calendar's earliest, if it starts later)."""
    start = day0 - timedelta(days=math.ceil(count * SESSION_DAYS) + 30)
    sessions = calendars.sessions(calendar, start, day0)
    position = max(len(sessions) - 1 - count, 0)
    found: date = sessions[position].date()
    return found


def price_needs(
    session: Session, event_ids: Sequence[int], params: StudyParams, calendars: Calendars
) -> tuple[dict[str, PriceNeed], dict[str, str]]:
    """Needs per symbol over the events' studies, and the studies whose range could not be worked out (why)."""
    rows = session.execute(
        select(Study.symbol, Study.benchmark, Study.day0, SecurityRow.exchange_mic)
        .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
        .where(Study.event_id.in_(list(event_ids)), Study.day0.is_not(None))
    ).all()
    estimation = -params.estimation_range[0]
    history = estimation + (params.placebo_lookback if params.placebo_draws else 0)
    needs: dict[str, PriceNeed] = {}
    problems: dict[str, str] = {}
    spans: dict[tuple[str, date], tuple[date, date, date]] = {}  # an event's securities share a few (calendar, day 0)
    for symbol, benchmark, day0, mic in rows:
        if day0 is None:
            continue
        try:
            calendar = listing(symbol, mic=mic).calendar
            if (calendar, day0) not in spans:
                spans[(calendar, day0)] = (
                    _session_before(calendars, calendar, day0, estimation),
                    _session_before(calendars, calendar, day0, history),
                    last_window_session(calendars, calendar, day0, params.window[1]),
                )
            first, deepest, last = spans[(calendar, day0)]
        except MonitorError as exc:
            problems[symbol] = str(exc)
            continue
        fetch_from = deepest - timedelta(days=FETCH_SLACK_DAYS)
        for name, venue in ((symbol, mic), (benchmark, None)):
            need = PriceNeed(name, venue, fetch_from, first, last)
            needs[name] = needs[name].widened(need) if name in needs else need
    return needs, problems


def stored_ranges(session: Session, symbols: Iterable[str]) -> dict[str, tuple[date, date]]:
    rows = session.execute(
        select(DailyPrice.symbol, func.min(DailyPrice.date), func.max(DailyPrice.date))
        .where(DailyPrice.symbol.in_(list(symbols)))
        .group_by(DailyPrice.symbol)
    ).all()
    return {str(symbol): (first, last) for symbol, first, last in rows}


def uncovered(session: Session, needs: dict[str, PriceNeed]) -> list[PriceNeed]:
    """Needs the store does not cover: nothing stored, a later first bar, or an earlier last one."""
    stored = stored_ranges(session, needs)
    missing: list[PriceNeed] = []
    for symbol, need in sorted(needs.items()):
        have = stored.get(symbol)
        if have is None or have[0] > need.first or have[1] < need.last:
            missing.append(need)
    return missing


def refresh_needed(
    store: PriceStore,
    source: PriceSource,
    missing: Sequence[PriceNeed],
    *,
    since: date,
    on_result: Callable[[RefreshResult], None] | None = None,
) -> list[RefreshResult]:
    """Refresh the missing symbols in one batch from ``since`` (the earliest start any need of the range has, so a
    rerun asks the same), one request per symbol whatever the span. The store's batch rules hold: it stops at a
    rate limit or a source that keeps failing, and one symbol's failure is in its result, never raised."""
    if not missing:
        return []
    mics = {need.symbol: need.mic for need in missing if need.mic}
    return store.refresh_many([need.symbol for need in missing], source, since=since, mics=mics, on_result=on_result)


def earliest_start(needs: dict[str, PriceNeed]) -> date | None:
    return min((need.fetch_from for need in needs.values()), default=None)
