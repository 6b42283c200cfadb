"""Where a study's daily bars come from, and the rule that it never sees a bar from its future.

``BarReader`` is the one method a study reads bars through. ``StoreBars`` reads the database price store (fetching
what it lacks from a source), ``SourceBars`` a ``PriceSource`` directly (``monitor study --prices-dir``), and
``FinalBars`` wraps either so that only sessions final at the clock's ``now`` are shown (no look-ahead): the
backfill runs each event with the clock at that event's moment while later bars are already stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from monitor.clock import Clock
from monitor.errors import InputError, NoPriceData

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from monitor.db.tables.prices import PriceSyncState
    from monitor.prices.calendars import Calendars
    from monitor.prices.sources import PriceSource
    from monitor.prices.store import PriceStore, RefreshResult

NO_DATA_RETRY = timedelta(hours=6)  # a source that had no bars for a symbol is asked again after this


class BarReader(Protocol):
    """Daily bars for many symbols (the ``PriceSource`` frame shape); a symbol without any maps to an empty frame."""

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]: ...


@dataclass(frozen=True)
class History:
    """One symbol's stored bars as arrays, in date order: what a study reads (the adjusted close and the volume).

    A backfill reads each symbol once into one of these and every event slices it by position, instead of
    building a frame per (event, symbol)."""

    dates: npt.NDArray[np.int64]  # nanoseconds since the epoch (midnight of the bar's date)
    close: npt.NDArray[np.float64]  # adjusted close
    volume: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Visible:
    """The bars of ``history`` a study may see: positions ``lo`` to ``hi`` (exclusive)."""

    history: History
    lo: int
    hi: int

    @property
    def dates(self) -> npt.NDArray[np.int64]:
        return self.history.dates[self.lo : self.hi]

    @property
    def close(self) -> npt.NDArray[np.float64]:
        return self.history.close[self.lo : self.hi]

    @property
    def volume(self) -> npt.NDArray[np.float64]:
        return self.history.volume[self.lo : self.hi]


class HistoryReader(BarReader, Protocol):
    """A bar reader that also holds whole histories as arrays (``monitor.backfill.bars.CachedStoreBars``)."""

    def histories(self, symbols: Iterable[str]) -> dict[str, History]: ...


@dataclass
class SourceBars:
    """A ``PriceSource`` (e.g. ``CsvDirectorySource``) read directly; missing symbols are remembered with why."""

    source: PriceSource
    problems: dict[str, str] = field(default_factory=dict)

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        from monitor.prices.sources import empty_frame

        out: dict[str, pd.DataFrame] = {}
        for symbol in dict.fromkeys(symbols):
            try:
                out[symbol] = self.source.history(symbol, start, end)
            except (NoPriceData, InputError) as exc:
                self.problems[symbol] = str(exc)
                out[symbol] = empty_frame()
        return out


@dataclass
class StoreBars:
    """The database price store; with a ``source`` it first fetches symbols whose stored bars miss the range."""

    store: PriceStore
    source: PriceSource | None = None
    clock: Clock = field(kw_only=True)  # "today", for deciding whether stored bars are stale
    problems: dict[str, str] = field(default_factory=dict)
    on_fetch: Callable[[RefreshResult], None] | None = None  # progress bars

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        wanted = list(dict.fromkeys(symbols))
        stored: dict[str, pd.DataFrame] = self.store.bars_many(wanted, start, end)
        if self.source is None:
            return stored
        states = self.store.states(wanted)
        missing = [s for s in wanted if self._incomplete(stored[s], start, end, states.get(s))]
        # refresh_many stops at a rate limit, so a throttled source is not hammered symbol after symbol.
        for result in self.store.refresh_many(missing, self.source, since=start, on_result=self.on_fetch):
            if result.status != "ok":
                self.problems[result.symbol] = result.reason or result.status
        if missing:
            stored.update(self.store.bars_many(missing, start, end))
        return stored

    def _incomplete(
        self, frame: pd.DataFrame, start: date | None, end: date | None, state: PriceSyncState | None
    ) -> bool:
        """Whether the stored bars miss part of the range and asking the source again could help.

        A source that already answered "nothing" recently, or whose full history was fetched from ``start`` or
        earlier, is not asked again: a recent listing or an unknown symbol would otherwise be re-fetched in full
        on every study update, hammering a rate-limited source.
        """
        now = self.clock.now()
        fetched_at = state.last_fetch_at if state is not None else None
        if (
            state is not None
            and state.status == "no_data"
            and fetched_at is not None
            and now - fetched_at < NO_DATA_RETRY
        ):
            return False
        if frame.empty:
            return True
        first, last = frame.index[0].date(), frame.index[-1].date()
        today = now.date()
        stale = last < min(end or today, today - timedelta(days=1)) - timedelta(days=4)
        asked_from = state.history_since if state is not None else None
        short = start is not None and first > start + timedelta(days=10) and (asked_from is None or asked_from > start)
        return stale or short


@dataclass
class FinalBars:
    """A bar reader that only shows sessions final at ``now``: a study never sees a bar from its future.

    The backfill runs each event with the clock at that event's moment while later bars are already stored;
    the daemon never stores unfinished bars, so for it this is a cheap no-op.
    """

    inner: BarReader
    calendars: Calendars
    now: datetime
    margin_minutes: int
    problems: dict[str, str] = field(default_factory=dict)

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        """Bars dated up to ``settled_through`` are final, bars dated after ``now``'s next day are not; only the few
        dates between are judged by their exchange's close, once per calendar (a backfill's frames run months
        past its now, over hundreds of securities)."""
        import numpy as np
        import pandas as pd

        from monitor.prices.exchanges import listing

        frames = self.inner.bars_many(symbols, start, end)
        self.problems.update(getattr(self.inner, "problems", {}))
        settled = np.datetime64(self.settled_through(), "ns")
        beyond = np.datetime64(self.now.date() + timedelta(days=1), "ns")
        spans: dict[str, tuple[str, int, int]] = {}
        undecided: dict[str, set[np.datetime64]] = {}
        for symbol, frame in frames.items():
            values = frame.index.values
            lo = int(np.searchsorted(values, settled, side="right"))
            hi = int(np.searchsorted(values, beyond, side="right"))
            calendar = listing(symbol).calendar
            spans[symbol] = (calendar, lo, hi)
            undecided.setdefault(calendar, set()).update(values[lo:hi])
        verdicts: dict[str, dict[np.datetime64, bool]] = {}
        for calendar, dates in undecided.items():
            ordered = pd.DatetimeIndex(sorted(dates), dtype="datetime64[ns]")
            final: Iterable[bool] = self.calendars.final_mask(calendar, ordered, self.now, self.margin_minutes)
            verdicts[calendar] = {value: bool(ok) for value, ok in zip(ordered.values, final, strict=True)}
        out: dict[str, pd.DataFrame] = {}
        for symbol, frame in frames.items():
            calendar, lo, hi = spans[symbol]
            if lo == len(frame):
                out[symbol] = frame
                continue
            middle = np.array([verdicts[calendar][value] for value in frame.index.values[lo:hi]], dtype=bool)
            settled_count = int(middle.sum())
            if middle[:settled_count].all():  # the usual shape: final up to a point, then not (a view, no copy)
                out[symbol] = frame.iloc[: lo + settled_count]
            else:
                out[symbol] = frame[np.concatenate([np.ones(lo, dtype=bool), middle, np.zeros(len(frame) - hi, bool)])]
        return out

    def visible(self, symbols: Iterable[str], start: date, end: date) -> dict[str, Visible] | None:
        """What ``bars_many`` would show, as positions in the inner reader's array histories (None when it keeps
        none, or when a symbol's final bars are not one run from its first: then frames are the way). Symbols are
        keyed as the inner reader keys them."""
        import numpy as np
        import pandas as pd

        from monitor.prices.exchanges import listing

        inner = self.inner
        if not hasattr(inner, "histories"):
            return None
        histories: dict[str, History] = inner.histories(symbols)
        self.problems.update(getattr(inner, "problems", {}))
        first, last = pd.Timestamp(start).value, pd.Timestamp(end).value
        settled = np.datetime64(self.settled_through(), "ns").astype(np.int64)
        beyond = np.datetime64(self.now.date() + timedelta(days=1), "ns").astype(np.int64)
        spans: dict[str, tuple[str, int, int, int, int]] = {}
        undecided: dict[str, set[int]] = {}
        for symbol, history in histories.items():
            a = int(np.searchsorted(history.dates, first, side="left"))
            b = int(np.searchsorted(history.dates, last, side="right"))
            values = history.dates[a:b]
            lo = a + int(np.searchsorted(values, settled, side="right"))
            hi = a + int(np.searchsorted(values, beyond, side="right"))
            calendar = listing(symbol).calendar
            spans[symbol] = (calendar, a, b, lo, hi)
            if lo < b:
                undecided.setdefault(calendar, set()).update(history.dates[lo:hi].tolist())
        verdicts: dict[str, dict[int, bool]] = {}
        for calendar, dates in undecided.items():
            ordered = pd.DatetimeIndex(np.array(sorted(dates), dtype="datetime64[ns]"))
            final = self.calendars.final_mask(calendar, ordered, self.now, self.margin_minutes)
            verdicts[calendar] = dict(zip(ordered.asi8.tolist(), np.asarray(final, dtype=bool).tolist(), strict=True))
        out: dict[str, Visible] = {}
        for symbol, (calendar, a, b, lo, hi) in spans.items():
            history = histories[symbol]
            if lo == b:
                out[symbol] = Visible(history, a, b)
                continue
            middle = [verdicts[calendar][value] for value in history.dates[lo:hi].tolist()]
            count = sum(middle)
            if not all(middle[:count]):  # final bars after one that is not: only a frame mask can say it
                return None
            out[symbol] = Visible(history, a, lo + count)
        return out

    def settled_through(self) -> date:
        """Bars dated up to this day are final on every exchange: a session closes before its local day ends, and
        no local day ends more than 36 hours after the start of the same UTC date."""
        return (self.now - timedelta(minutes=self.margin_minutes, days=2)).date()
