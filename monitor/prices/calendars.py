"""Exchange calendars: sessions, closes, day 0, and a coverage check, built once per process.

Day 0 for a security is the first session of its exchange whose close is at or after the announcement
(``closes.searchsorted(ts, side="left")``). An announcement during a session, or during the XSHG/XHKG lunch break,
makes that session day 0; one after the close makes the next session day 0. ``minute_to_future_session`` is never
used: it returns the first session that *opens* after the timestamp and would move an intraday announcement a day.

Calendars never guess past their data. XSHG holidays are hard-coded in exchange-calendars up to 2026-12-31; past
that bound every question raises ``CalendarOutOfRange`` and the caller leaves the study pending. An operator extends
a calendar with ``calendars.holiday_overrides``: the exchange's closed weekdays, per calendar (or MIC). For a
calendar whose data has a hard end (XSHG), listing closed days in a later year extends its bound to 31 December of
the latest such year, which is exactly how exchange-calendars bounds its own precomputed lists, so enter the whole
year at once, as SSE publishes it each December, e.g. in the TOML file::

    [calendars.holiday_overrides]
    XSHG = [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10, ...]

A year entered with fewer closed weekdays than the mainland ever has (``MIN_MAINLAND_HOLIDAYS``) is reported by
``coverage`` as probably incomplete. Rule-based calendars (XNYS) have no hard end: they are built a couple of years
ahead and rebuilt further on demand.

Until the operator enters a year, the mainland calendar does not simply run out: past exchange-calendars' bound it
is extended *provisionally* from the ``holidays`` package's Shanghai Stock Exchange calendar (statutory holidays by
rule; the State Council's make-up arrangements are only known once published), through the year after the bound
(``PROVISIONAL_YEARS``). Provisional days are flagged (``provisional``, ``is_provisional``) and corrected by what
the market did (``observe``): a weekday with an index bar was a session, a weekday without one, once later bars
exist, was not. Operator overrides for a year replace the provisional days of that year.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import numpy as np
import pandas as pd
from exchange_calendars import ExchangeCalendar

from monitor.clock import ensure_utc
from monitor.errors import CalendarOutOfRange, ConfigError, InputError
from monitor.logs import get_logger
from monitor.prices.exchanges import MIC_CALENDARS, calendar_for_mic, calendar_names, listing

log = get_logger(__name__)

DEFAULT_START = date(2000, 1, 1)  # the bundled prices and the 2018-2020 listings' estimation windows need the 2010s
HORIZON_DAYS = 2 * 366  # how far ahead a rule-based calendar is built; rebuilt further on demand
MIN_MAINLAND_HOLIDAYS = 8  # SSE/SZSE close on at least this many weekdays a year (1999-2026 lists: 9 to 15)
PROVISIONAL_YEARS = 1  # years past a hard bound filled from the ``holidays`` package, flagged provisional
PROVISIONAL_SOURCES = {"XSHG": "XSHG"}  # calendar → the holidays package's financial market code
_NS_PER_MINUTE = 60 * 1_000_000_000
_NS_PER_DAY = 24 * 60 * _NS_PER_MINUTE
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class CoverageWarning:
    """A calendar whose data ends soon (or has ended), for start-up checks and ``monitor prices calendars``."""

    calendar: str
    last_session: date
    days_left: int
    message: str


@dataclass(frozen=True, slots=True)
class _Built:
    calendar: ExchangeCalendar
    start: pd.Timestamp  # first date the calendar answers for (tz-naive)
    end: pd.Timestamp  # last date it answers for (tz-naive)
    sessions_ns: np.ndarray  # session labels, int64 ns (tz-naive dates)
    closes_ns: np.ndarray  # session closes, int64 ns UTC
    start_utc_ns: int  # local midnight of ``start``, in UTC ns: nothing earlier can be placed


def _calendar_factory(name: str) -> type[ExchangeCalendar]:
    # exchange-calendars keeps its name → class registry here; get_calendar() would build a throwaway instance.
    from exchange_calendars.calendar_utils import _default_calendar_factories

    factory: type[ExchangeCalendar] | None = _default_calendar_factories.get(name)
    if factory is None:
        raise ConfigError(f"unknown exchange calendar {name!r}; exchange-calendars has no such name")
    return factory


def _with_overrides(name: str, extra: tuple[pd.Timestamp, ...]) -> type[ExchangeCalendar]:
    """The library's class for ``name``, with extra closed days and, past a hard bound, an extended bound."""
    base = _calendar_factory(name)
    if not extra:
        return base
    holidays = list(extra)

    def adhoc_holidays(self: ExchangeCalendar) -> list[Any]:
        return [*super(derived, self).adhoc_holidays, *holidays]

    namespace: dict[str, Any] = {"adhoc_holidays": property(adhoc_holidays)}
    base_max = base.bound_max()
    if base_max is not None and max(extra) > base_max:
        extended = pd.Timestamp(f"{max(extra).year}-12-31")
        namespace["bound_max"] = classmethod(lambda cls: extended)
    derived: type[ExchangeCalendar] = type(f"{base.__name__}WithOverrides", (base,), namespace)
    return derived


@lru_cache(maxsize=256)
def _calendar_key(name_or_mic: str) -> str:
    key = name_or_mic.strip().upper()
    if key in MIC_CALENDARS:
        return calendar_for_mic(key)
    _calendar_factory(key)  # validates the name
    return key


def _as_utc_ns(moment: datetime | pd.Timestamp) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {moment.isoformat()}")
    if isinstance(moment, pd.Timestamp):
        return int(moment.value)  # always UTC nanoseconds for an aware Timestamp
    return (moment - _EPOCH) // _MICROSECOND * 1000


def _date_of(ns: int) -> date:
    """The calendar date of a tz-naive session label given in nanoseconds since the epoch."""
    return date.fromordinal(_EPOCH_ORDINAL + ns // _NS_PER_DAY)


class Calendars:
    """A thread-safe cache of exchange calendars with holiday overrides applied; one per process is enough."""

    def __init__(
        self,
        holiday_overrides: Mapping[str, Iterable[date]] | None = None,
        *,
        start: date = DEFAULT_START,
        today: date | None = None,
    ) -> None:
        merged: dict[str, set[date]] = {}
        for key, days in (holiday_overrides or {}).items():
            merged.setdefault(_calendar_key(key), set()).update(days)
        self._entered = {name: tuple(pd.Timestamp(day) for day in sorted(days)) for name, days in merged.items()}
        self._provisional: dict[str, tuple[date, date]] = {}
        for name, (first, last, days) in provisional_holidays(merged).items():
            merged.setdefault(name, set()).update(days)
            self._provisional[name] = (first, last)
        self._overrides: dict[str, tuple[pd.Timestamp, ...]] = {
            name: tuple(pd.Timestamp(day) for day in sorted(days)) for name, days in merged.items() if days
        }
        self._observed: dict[str, tuple[set[date], set[date]]] = {}  # name → (seen open, seen closed)
        self._start = pd.Timestamp(start)
        self._today = pd.Timestamp(today or datetime.now(UTC).date())
        self._built: dict[str, _Built] = {}
        self._lock = threading.Lock()

    # --- building -------------------------------------------------------------------------------------------

    def _build(self, name: str, start: pd.Timestamp, end: pd.Timestamp | None) -> _Built:
        cls = _with_overrides(name, self._overrides.get(name, ()))
        bound_min, bound_max = cls.bound_min(), cls.bound_max()
        start = max(start, bound_min) if bound_min is not None else start
        wanted_end = end if end is not None else self._today + pd.Timedelta(days=HORIZON_DAYS)
        end = min(wanted_end, bound_max) if bound_max is not None else wanted_end
        calendar = cls(start=start, end=end)
        closes = calendar.closes
        tz_start = pd.Timestamp(start).tz_localize(calendar.tz).tz_convert("UTC")
        log.debug("calendar_built", calendar=name, start=str(start.date()), end=str(end.date()), sessions=len(closes))
        return _Built(
            calendar=calendar,
            start=start,
            end=end,
            sessions_ns=closes.index.values.astype("datetime64[ns]").view("i8"),
            closes_ns=closes.values.astype("datetime64[ns]").view("i8"),
            start_utc_ns=int(tz_start.value),
        )

    def _get(self, name: str) -> _Built:
        built = self._built.get(name)
        if built is None:
            with self._lock:
                built = self._built.get(name)
                if built is None:
                    built = self._build(name, self._start, None)
                    self._built[name] = built
        return built

    def _covering(self, name: str, first: pd.Timestamp | None, last: pd.Timestamp | None) -> _Built:
        """The calendar for ``name``, rebuilt wider when a date is outside it but within the library's bounds."""
        built = self._get(name)
        too_early = first is not None and first < built.start
        too_late = last is not None and last > built.end
        if not (too_early or too_late):
            return built
        cls = type(built.calendar)
        bound_min, bound_max = cls.bound_min(), cls.bound_max()
        if too_early and bound_min is not None and first is not None and first < bound_min:
            raise CalendarOutOfRange(name, first.date(), bound_min.date())
        if too_late and bound_max is not None and last is not None and last > bound_max:
            raise CalendarOutOfRange(name, last.date(), bound_max.date())
        new_start = min(built.start, first) if first is not None else built.start
        new_end = max(built.end, last + pd.Timedelta(days=366)) if last is not None else built.end
        with self._lock:
            built = self._build(name, new_start, new_end)
            self._built[name] = built
        log.info("calendar_extended", calendar=name, start=str(built.start.date()), end=str(built.end.date()))
        return built

    # --- provisional data -----------------------------------------------------------------------------------

    def provisional(self, name_or_mic: str) -> tuple[date, date] | None:
        """First and last date of a calendar's provisional extension, or None when it has none."""
        return self._provisional.get(_calendar_key(name_or_mic))

    def is_provisional(self, name_or_mic: str, day: date) -> bool:
        span = self.provisional(name_or_mic)
        return span is not None and span[0] <= day <= span[1]

    def observe(self, name_or_mic: str, bars: Iterable[date], through: date) -> bool:
        """Correct the provisional days up to ``through`` by a local index's bars: a provisional holiday with a bar
        was a session; a provisional session (a weekday) without one was not. True when the calendar changed."""
        name = _calendar_key(name_or_mic)
        span = self._provisional.get(name)
        if span is None or through < span[0]:
            return False
        last = min(through, span[1])
        seen = {day for day in bars if span[0] <= day <= last}
        weekdays = {span[0] + timedelta(days=k) for k in range((last - span[0]).days + 1)}
        weekdays = {day for day in weekdays if day.weekday() < 5}
        holidays = {stamp.date() for stamp in self._overrides.get(name, ())}
        opened = {day for day in seen if day in holidays}
        closed = {day for day in weekdays - seen if day not in holidays}
        if not opened and not closed:
            return False
        with self._lock:
            updated = (holidays - opened) | closed
            self._overrides[name] = tuple(pd.Timestamp(day) for day in sorted(updated))
            was_open, was_closed = self._observed.get(name, (set(), set()))
            self._observed[name] = (was_open | opened, was_closed | closed)
            self._built.pop(name, None)
        log.info("calendar_observed", calendar=name, opened=len(opened), closed=len(closed), through=str(last))
        return True

    # --- lookups --------------------------------------------------------------------------------------------

    def calendar(self, name_or_mic: str) -> ExchangeCalendar:
        """The exchange-calendars object (with overrides) for a calendar name or a venue MIC."""
        return self._get(_calendar_key(name_or_mic)).calendar

    @staticmethod
    def name_for_key(name_or_mic: str) -> str:
        """The calendar name for a calendar name or venue MIC (XSHE → XSHG)."""
        return _calendar_key(name_or_mic)

    def name_for(self, symbol: str, *, mic: str | None = None) -> str:
        return listing(symbol, mic=mic).calendar

    def day0(self, symbol: str, announced_at: datetime, *, mic: str | None = None) -> date:
        """Day 0 for ``symbol`` (its own exchange's calendar; ``mic`` from the universe wins over the suffix)."""
        return self.day0_on(self.name_for(symbol, mic=mic), announced_at)

    def day0_on(self, name_or_mic: str, announced_at: datetime) -> date:
        name = _calendar_key(name_or_mic)
        stamp = _as_utc_ns(announced_at)
        built = self._get(name)
        if built.start_utc_ns <= stamp <= built.closes_ns[-1]:  # the common case, without pandas
            return _date_of(int(built.sessions_ns[np.searchsorted(built.closes_ns, stamp, side="left")]))
        sessions = self.day0_many(name, [announced_at])  # widens the calendar, or raises past its data
        return _date_of(int(sessions.asi8[0]))

    def day0_many(self, name_or_mic: str, announced: Sequence[datetime] | pd.DatetimeIndex) -> pd.DatetimeIndex:
        """Vectorised day 0 for many announcement times on one calendar; tz-naive session labels."""
        name = _calendar_key(name_or_mic)
        if isinstance(announced, pd.DatetimeIndex):
            if announced.tz is None:
                raise ValueError("announcement times must be timezone-aware")
            stamps = announced.tz_convert("UTC").as_unit("ns").asi8
        else:
            stamps = np.fromiter((_as_utc_ns(moment) for moment in announced), dtype=np.int64, count=len(announced))
        if stamps.size == 0:
            return pd.DatetimeIndex([], dtype="datetime64[ns]")
        latest = pd.Timestamp(int(stamps.max()), tz="UTC").tz_localize(None).normalize()
        earliest = pd.Timestamp(int(stamps.min()), tz="UTC").tz_localize(None).normalize()
        built = self._covering(name, earliest, latest + pd.Timedelta(days=7))
        if int(stamps.min()) < built.start_utc_ns:
            raise CalendarOutOfRange(name, pd.Timestamp(int(stamps.min()), tz="UTC").isoformat(), built.start.date())
        positions = np.searchsorted(built.closes_ns, stamps, side="left")
        if int(positions.max()) >= len(built.closes_ns):
            late = pd.Timestamp(int(stamps[positions >= len(built.closes_ns)][0]), tz="UTC")
            last = pd.Timestamp(int(built.sessions_ns[-1])).date()
            raise CalendarOutOfRange(name, late.isoformat(), last)
        return pd.DatetimeIndex(built.sessions_ns[positions].view("datetime64[ns]"))

    def sessions(self, name_or_mic: str, start: date, end: date) -> pd.DatetimeIndex:
        """Sessions from ``start`` to ``end`` inclusive (tz-naive labels); raises past the calendar's data."""
        name = _calendar_key(name_or_mic)
        first, last = pd.Timestamp(start), pd.Timestamp(end)
        if last < first:
            raise InputError(f"sessions: end {end} is before start {start}")
        built = self._covering(name, first, last)
        lo = np.searchsorted(built.sessions_ns, first.value, side="left")
        hi = np.searchsorted(built.sessions_ns, last.value, side="right")
        return pd.DatetimeIndex(built.sessions_ns[lo:hi].view("datetime64[ns]"), name="date")

    def session_close(self, name_or_mic: str, session: date) -> datetime:
        name = _calendar_key(name_or_mic)
        label = pd.Timestamp(session)
        built = self._covering(name, label, label)
        position = int(np.searchsorted(built.sessions_ns, label.value))
        if position >= len(built.sessions_ns) or built.sessions_ns[position] != label.value:
            raise InputError(f"{session} is not a {name} session")
        close: datetime = pd.Timestamp(int(built.closes_ns[position]), tz="UTC").to_pydatetime()
        return close

    def final_mask(self, name_or_mic: str, dates: pd.DatetimeIndex, now: datetime, margin_minutes: int) -> np.ndarray:
        """Which daily bars are final at ``now``: their session closed at least ``margin_minutes`` ago.

        A date that is not a session of the calendar, or lies past its data, is judged by the end of that local
        day instead, so a bar is never accepted early and a calendar running out never blocks old bars.
        """
        name = _calendar_key(name_or_mic)
        if len(dates) == 0:
            return np.zeros(0, dtype=bool)
        built = self._get(name)
        labels = dates.values.astype("datetime64[ns]").view("i8")
        positions = np.searchsorted(built.sessions_ns, labels)
        clipped = np.minimum(positions, len(built.sessions_ns) - 1)
        is_session = built.sessions_ns[clipped] == labels
        local_midnight_next = (
            (pd.DatetimeIndex(dates).normalize() + pd.Timedelta(days=1))
            .tz_localize(built.calendar.tz, ambiguous="NaT", nonexistent="shift_forward")
            .tz_convert("UTC")
            .as_unit("ns")
            .asi8
        )
        closes = np.where(is_session, built.closes_ns[clipped], local_midnight_next)
        cutoff = _as_utc_ns(now) - margin_minutes * _NS_PER_MINUTE
        return np.asarray(closes <= cutoff, dtype=bool)

    # --- health -----------------------------------------------------------------------------------------------

    def coverage(
        self, now: datetime, *, warn_days: int = 60, names: Iterable[str] | None = None
    ) -> list[CoverageWarning]:
        """Calendars whose data ends within ``warn_days`` of ``now`` (or already has), and overrides that look
        incomplete. Empty means every calendar is good for at least ``warn_days``."""
        today = ensure_utc(now, name="now").date()
        warnings: list[CoverageWarning] = []
        for name in sorted({_calendar_key(n) for n in (names if names is not None else calendar_names())}):
            bound_max = _with_overrides(name, self._overrides.get(name, ())).bound_max()
            if bound_max is None or (bound_max.date() - today).days >= warn_days + 14:
                # rule-based, or its data reaches far enough: no need to build it (XKRX takes seconds)
                warnings.extend(self._incomplete_override_years(name, bound_max.date() if bound_max else today))
                continue
            built = self._get(name)
            last = pd.Timestamp(int(built.sessions_ns[-1])).date()
            days_left = (last - today).days
            if built.end >= bound_max and days_left < warn_days:
                state = "ended" if days_left < 0 else f"ends in {days_left} days"
                year = last.year + 1
                message = (
                    f"calendar {name} data {state} (last session {last}); add the exchange's {year} closed weekdays "
                    f"to calendars.holiday_overrides.{name} (MONITOR_CALENDARS__HOLIDAY_OVERRIDES) to extend it; "
                    "until then day 0 and studies past that date stay pending"
                )
                warnings.append(CoverageWarning(name, last, days_left, message))
            warnings.extend(self._incomplete_override_years(name, last))
        for warning in warnings:
            log.warning(
                "calendar_coverage", calendar=warning.calendar, days_left=warning.days_left, detail=warning.message
            )
        return warnings

    def _incomplete_override_years(self, name: str, last: date) -> list[CoverageWarning]:
        base_max = _calendar_factory(name).bound_max()
        if name != "XSHG" or base_max is None:
            return []
        found: list[CoverageWarning] = []
        extra = self._entered.get(name, ())  # what the operator entered, not the provisional days
        for year in sorted({day.year for day in extra if day > base_max}):
            weekdays = sum(1 for day in extra if day.year == year and day.weekday() < 5)
            if weekdays < MIN_MAINLAND_HOLIDAYS:
                message = (
                    f"calendar {name}: holiday_overrides list only {weekdays} closed weekdays in {year}; the mainland "
                    f"exchanges close on at least {MIN_MAINLAND_HOLIDAYS}, so {year} is probably incomplete"
                )
                found.append(CoverageWarning(name, last, (last - date(year, 12, 31)).days, message))
        return found


def known_through(name_or_mic: str, holiday_overrides: Mapping[str, Iterable[date]] | None = None) -> date | None:
    """The last date a calendar's holiday data covers (with overrides and any provisional extension), or None for
    a rule-based calendar."""
    if not holiday_overrides:  # every study asks this, once per exchange: the library data is fixed per process
        return _known_through(_calendar_key(name_or_mic))
    return _known_through_with(_calendar_key(name_or_mic), holiday_overrides)


@cache
def _known_through(name: str) -> date | None:
    return _known_through_with(name, {})


def _known_through_with(name: str, holiday_overrides: Mapping[str, Iterable[date]]) -> date | None:
    merged: dict[str, set[date]] = {}
    for key, days in (holiday_overrides or {}).items():
        merged.setdefault(_calendar_key(key), set()).update(days)
    days = set(merged.get(name, set()))
    found = provisional_holidays(merged).get(name)
    if found is not None:
        days |= found[2]
    bound = _with_overrides(name, tuple(pd.Timestamp(d) for d in sorted(days))).bound_max()
    if found is not None and bound is not None:
        bound = max(bound, pd.Timestamp(found[1]))
    return bound.date() if bound is not None else None


def provisional_holidays(overrides: Mapping[str, set[date]]) -> dict[str, tuple[date, date, set[date]]]:
    """Per calendar with a hard bound and a ``holidays`` source: the provisional span (first, last date) and its
    closed weekdays, for the years past the bound (and past any year the operator entered) up to
    ``PROVISIONAL_YEARS`` after the library's own bound."""
    import holidays as holiday_package

    out: dict[str, tuple[date, date, set[date]]] = {}
    for name, market in PROVISIONAL_SOURCES.items():
        base_max = _calendar_factory(name).bound_max()
        if base_max is None:
            continue
        entered = {day.year for day in overrides.get(name, set()) if day > base_max.date()}
        years = [base_max.year + k for k in range(1, PROVISIONAL_YEARS + 1)]
        years = [year for year in years if year not in entered and year > max(entered, default=0)]
        if not years:
            continue
        closed = holiday_package.financial_holidays(market, years=years)
        days = {day for day in closed if day.weekday() < 5}
        out[name] = (date(years[0], 1, 1), date(years[-1], 12, 31), days)
    return out


_shared: dict[tuple[Any, ...], Calendars] = {}
_shared_lock = threading.Lock()


def shared_calendars(
    holiday_overrides: Mapping[str, Iterable[date]] | None = None, *, start: date = DEFAULT_START
) -> Calendars:
    """One ``Calendars`` per distinct configuration for the whole process (building one costs ~0.2 s)."""
    key = (tuple(sorted((k, tuple(sorted(v))) for k, v in (holiday_overrides or {}).items())), start)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = Calendars(holiday_overrides, start=start)
            _shared[key] = found
        return found


def calendars_from_settings(settings: Any) -> Calendars:
    """Calendars for ``Settings`` (or its ``calendars`` section): overrides and start from configuration."""
    section = getattr(settings, "calendars", settings)
    return shared_calendars(section.holiday_overrides, start=getattr(section, "start", DEFAULT_START))
