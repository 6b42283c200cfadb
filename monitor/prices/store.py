"""Our own price store: daily bars keyed by (symbol, date), refreshed incrementally, never with a forming bar.

A refresh first decides, then writes (one transaction per symbol):
- nothing stored yet, ``--since`` earlier than what is stored, or ``full=True``: fetch the whole history (from
  ``since`` or the first stored date) and replace the symbol's rows;
- otherwise fetch from the ``overlap_sessions``-th last stored session onwards. If the re-fetched overlap's adjusted
  (or raw) close differs from what is stored, or a new dividend or split appears, the source has re-based its
  history, so the whole history is fetched again and replaced: adjusted prices change retroactively.
A bar is accepted only once its exchange's close plus ``bar_margin_minutes`` has passed at the injected clock's
``now``: Yahoo serves the current session's bar while it is still forming.

Failures never escape a refresh: a symbol without data, a source outage or a rate limit is recorded in
``PriceSyncState`` (status ``no_data``, ``error`` or ``degraded``) and returned in the ``RefreshResult``. A batch
stops at the first rate limit so the source is not hammered; the rest is left for the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from monitor import metrics
from monitor.clock import Clock
from monitor.db.tables.prices import DailyPrice, PriceSyncState
from monitor.db.upsert import upsert
from monitor.errors import InputError, NoPriceData, PriceSourceUnavailable, RateLimited
from monitor.logs import get_logger
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing, normalise_symbol
from monitor.prices.sources import COLUMNS, PriceSource, describe_error, empty_frame

log = get_logger(__name__)

OK, NO_DATA, DEGRADED, ERROR = "ok", "no_data", "degraded", "error"
FULL_HISTORY = date(1900, 1, 1)  # history_since of a full fetch that asked the source for everything
_DAILY: Table = DailyPrice.__table__  # type: ignore[assignment]
MAX_CONSECUTIVE_ERRORS = 3  # a batch stops after this many source failures in a row
_RTOL = 1e-6  # relative change in a stored close that counts as a re-based history


@dataclass(frozen=True, slots=True)
class RefreshResult:
    symbol: str
    status: str  # ok | no_data | degraded | error
    mode: str  # full | incremental | skipped (the fetch failed, nothing written)
    fetched: int = 0  # rows the source returned
    written: int = 0  # rows inserted or updated
    unfinished: int = 0  # rows dropped because their session had not closed (plus margin) yet
    first_session: date | None = None
    last_session: date | None = None
    reason: str | None = None  # why a full refresh happened, or what went wrong
    retry_after: float | None = None  # seconds, after a rate limit


class PriceStore:
    """Refreshes bars from a ``PriceSource`` into the database and reads them back."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        calendars: Calendars,
        *,
        clock: Clock,
        overlap_sessions: int = 5,
        bar_margin_minutes: int = 30,
    ) -> None:
        if overlap_sessions < 1:
            raise ValueError("overlap_sessions must be at least 1")
        self._sessions = sessions
        self._calendars = calendars
        self._clock = clock
        self._overlap = overlap_sessions
        self._margin = bar_margin_minutes

    @classmethod
    def from_settings(
        cls, sessions: sessionmaker[Session], settings: Any, *, clock: Clock, calendars: Calendars | None = None
    ) -> PriceStore:
        from monitor.prices.calendars import calendars_from_settings

        return cls(
            sessions,
            calendars or calendars_from_settings(settings),
            clock=clock,
            overlap_sessions=settings.prices.overlap_sessions,
            bar_margin_minutes=settings.prices.bar_margin_minutes,
        )

    # --- refreshing -----------------------------------------------------------------------------------------

    def refresh(
        self,
        symbol: str,
        source: PriceSource,
        *,
        since: date | None = None,
        mic: str | None = None,
        full: bool = False,
    ) -> RefreshResult:
        """Bring one symbol up to date; returns what happened and records it in ``PriceSyncState``."""
        symbol = normalise_symbol(symbol)
        calendar = listing(symbol, mic=mic).calendar
        now = self._clock.now()
        with self._sessions() as session:
            first_stored, overlap = self._stored_tail(session, symbol)
        try:
            if full or first_stored is None or (since is not None and since < first_stored):
                start = since if first_stored is None else min(d for d in (since, first_stored) if d is not None)
                reason = "requested" if full else ("first load" if first_stored is None else "earlier --since")
                return self._replace(symbol, source, calendar, start, now, reason)
            frame = source.history(symbol, start=overlap.index[0].date(), end=None)
            frame, unfinished = self._final_only(frame, calendar, now)
            rebased = _rebased(overlap, frame)
            if rebased is not None:
                log.info("price_history_rebased", symbol=symbol, reason=rebased)
                return self._replace(symbol, source, calendar, first_stored, now, rebased)
            return self._write(symbol, source, frame, now, mode="incremental", unfinished=unfinished)
        except RateLimited as exc:
            return self._failed(symbol, DEGRADED, exc, retry_after=exc.retry_after)
        except NoPriceData as exc:
            return self._failed(symbol, NO_DATA, exc)
        except (PriceSourceUnavailable, InputError) as exc:
            return self._failed(symbol, ERROR, exc)

    def refresh_many(
        self,
        symbols: Iterable[str],
        source: PriceSource,
        *,
        since: date | None = None,
        mics: Mapping[str, str] | None = None,
        full: bool = False,
        on_result: Callable[[RefreshResult], None] | None = None,
    ) -> list[RefreshResult]:
        """Refresh each symbol in turn. Stops at a rate limit, or after ``MAX_CONSECUTIVE_ERRORS`` source failures
        in a row (the source is down, not the symbol); the rest are reported as skipped and left untouched."""
        results: list[RefreshResult] = []
        pending = [normalise_symbol(s) for s in symbols]
        for symbol in pending:  # a typo or an unknown venue fails the command before anything is fetched
            listing(symbol, mic=(mics or {}).get(symbol))
        errors_in_a_row = 0
        for position, symbol in enumerate(pending):
            result = self.refresh(symbol, source, since=since, mic=(mics or {}).get(symbol), full=full)
            results.append(result)
            if on_result is not None:
                on_result(result)
            errors_in_a_row = errors_in_a_row + 1 if result.status == ERROR else 0
            if result.status == DEGRADED:
                status, why = DEGRADED, "source rate-limited"
            elif errors_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                status, why = ERROR, f"{errors_in_a_row} source failures in a row"
            else:
                continue
            for rest in pending[position + 1 :]:
                skipped = RefreshResult(
                    rest, status, "skipped", reason=f"not attempted: {why}", retry_after=result.retry_after
                )
                results.append(skipped)
                if on_result is not None:
                    on_result(skipped)
            log.warning("price_refresh_stopped", at=symbol, why=why, skipped=len(pending) - position - 1)
            break
        return results

    def _replace(
        self, symbol: str, source: PriceSource, calendar: str, start: date | None, now: datetime, reason: str
    ) -> RefreshResult:
        frame = source.history(symbol, start=start, end=None)
        frame, unfinished = self._final_only(frame, calendar, now)
        if frame.empty:
            raise NoPriceData(
                f"{symbol}: {source.name} returned no finished bars since {start or 'the start'}", symbol=symbol
            )
        return self._write(
            symbol, source, frame, now, mode="full", unfinished=unfinished, replace_from=start, reason=reason
        )

    def _final_only(self, frame: pd.DataFrame, calendar: str, now: datetime) -> tuple[pd.DataFrame, int]:
        if frame.empty:
            return frame, 0
        mask = self._calendars.final_mask(calendar, pd.DatetimeIndex(frame.index), now, self._margin)
        return frame[mask], int((~mask).sum())

    def _write(
        self,
        symbol: str,
        source: PriceSource,
        frame: pd.DataFrame,
        now: datetime,
        *,
        mode: str,
        unfinished: int,
        replace_from: date | None = None,
        reason: str | None = None,
    ) -> RefreshResult:
        rows = _rows(symbol, frame)
        constants = {"currency": frame.attrs.get("currency"), "source": source.name, "fetched_at": now}
        with self._sessions.begin() as session:
            if mode == "full":
                stale = delete(DailyPrice).where(DailyPrice.symbol == symbol)
                if replace_from is not None:
                    stale = stale.where(DailyPrice.date >= replace_from)
                session.execute(stale)
                if rows:  # a core executemany with the per-batch constants bound once
                    session.execute(_insert_or_replace(session, constants), rows)
                written = len(rows)
            else:
                rows = [{**row, **constants} for row in rows]
                written = upsert(session, DailyPrice, rows, key=["symbol", "date"]) if rows else 0
            first, last = session.execute(
                select(func.min(DailyPrice.date), func.max(DailyPrice.date)).where(DailyPrice.symbol == symbol)
            ).one()
            state: dict[str, Any] = {
                "symbol": symbol,
                "last_session": last,
                "last_fetch_at": now,
                "status": OK,
                "last_error": None,
            }
            if mode == "full":
                state["full_refresh_at"] = now
                state["history_since"] = replace_from or FULL_HISTORY
            upsert(session, PriceSyncState, [state], key=["symbol"], prefer_new=["history_since"])
        metrics.prices_degraded.set(0)
        log.info(
            "prices_refreshed",
            symbol=symbol,
            mode=mode,
            fetched=len(frame) + unfinished,
            written=written,
            unfinished=unfinished,
            last_session=str(last),
            source=source.name,
            reason=reason,
        )
        return RefreshResult(symbol, OK, mode, len(frame) + unfinished, written, unfinished, first, last, reason)

    def _failed(self, symbol: str, status: str, exc: Exception, *, retry_after: float | None = None) -> RefreshResult:
        message = describe_error(exc)
        now = self._clock.now()
        with self._sessions.begin() as session:
            upsert(
                session,
                PriceSyncState,
                [{"symbol": symbol, "last_fetch_at": now, "status": status, "last_error": message}],
                key=["symbol"],
            )
            first, last = session.execute(
                select(func.min(DailyPrice.date), func.max(DailyPrice.date)).where(DailyPrice.symbol == symbol)
            ).one()
        if status in (DEGRADED, ERROR):
            metrics.prices_degraded.set(1)
        log.warning("prices_refresh_failed", symbol=symbol, status=status, error=message)
        return RefreshResult(
            symbol, status, "skipped", first_session=first, last_session=last, reason=message, retry_after=retry_after
        )

    def _stored_tail(self, session: Session, symbol: str) -> tuple[date | None, pd.DataFrame]:
        """The first stored date and the last ``overlap`` stored bars (oldest first)."""
        first = session.execute(select(func.min(DailyPrice.date)).where(DailyPrice.symbol == symbol)).scalar_one()
        tail = session.execute(
            select(DailyPrice.date, DailyPrice.close, DailyPrice.adj_close, DailyPrice.dividends, DailyPrice.splits)
            .where(DailyPrice.symbol == symbol)
            .order_by(DailyPrice.date.desc())
            .limit(self._overlap)
        ).all()
        frame = pd.DataFrame(tail, columns=["date", "close", "adj_close", "dividends", "splits"])
        frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date")), name="date")
        return first, frame.sort_index().astype("float64")

    # --- reading --------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return "store"

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """The store as a ``PriceSource`` (the database cache): stored bars only, never a fetch."""
        bars = self.bars(symbol, start, end)
        if bars.empty:
            raise NoPriceData(
                f"{normalise_symbol(symbol)}: no stored bars in that range", symbol=normalise_symbol(symbol)
            )
        return bars

    def bars(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        with self._sessions() as session:
            return read_bars(session, symbol, start, end)

    def bars_many(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, pd.DataFrame]:
        with self._sessions() as session:
            return read_bars_many(session, symbols, start, end)

    def states(self, symbols: Iterable[str]) -> dict[str, PriceSyncState]:
        """Sync state per symbol (symbols never refreshed are absent), detached from the session."""
        wanted = [normalise_symbol(symbol) for symbol in symbols]
        with self._sessions() as session:
            rows = session.scalars(select(PriceSyncState).where(PriceSyncState.symbol.in_(wanted))).all()
            for row in rows:
                session.expunge(row)
        return {row.symbol: row for row in rows}

    def state(self, symbol: str) -> PriceSyncState | None:
        with self._sessions() as session:
            row = session.get(PriceSyncState, normalise_symbol(symbol))
            if row is not None:
                session.expunge(row)
            return row


def _rebased(stored: pd.DataFrame, fetched: pd.DataFrame) -> str | None:
    """Why the fetched overlap means the stored history is stale, or None when it still agrees."""
    common = stored.index.intersection(fetched.index)
    for column in ("adj_close", "close"):
        old = stored.loc[common, column].to_numpy()
        new = fetched.loc[common, column].to_numpy()
        both = np.isfinite(old) & np.isfinite(new)
        changed = (~np.isclose(old, new, rtol=_RTOL, atol=0.0) & both) | (np.isfinite(old) != np.isfinite(new))
        if changed.any():
            day = common[int(np.flatnonzero(changed)[0])].date()
            return f"{column} changed on {day} ({old[changed][0]:.6g} → {new[changed][0]:.6g})"
    for column, label in (("splits", "split"), ("dividends", "dividend")):
        new_actions = fetched[column].to_numpy() != 0
        known = stored[column].reindex(fetched.index).fillna(0.0).to_numpy()
        fresh = new_actions & ~np.isclose(fetched[column].to_numpy(), known)
        if fresh.any():
            day = fetched.index[int(np.flatnonzero(fresh)[0])].date()
            return f"new {label} on {day}"
    return None


def _insert_or_replace(session: Session, constants: Mapping[str, Any]) -> Any:
    """The bulk insert of a full refresh, tolerant of a concurrent refresh of the same symbol (another replica,
    or the study job fetching what the price job is fetching): on a key conflict the newer bar wins instead of the
    transaction failing. PostgreSQL makes the conflicting insert wait for the other transaction first."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_DAILY).values(**constants)
    replaced = {name: statement.excluded[name] for name in (*COLUMNS, *constants)}
    return statement.on_conflict_do_update(index_elements=["symbol", "date"], set_=replaced)


def _rows(symbol: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per bar (NaN → NULL); built column-wise because a full history is thousands of rows."""
    if frame.empty:
        return []
    columns = [_nullable(frame[name].to_numpy(dtype="float64")) for name in COLUMNS]
    for position, name in enumerate(COLUMNS):
        if name in ("dividends", "splits"):
            columns[position] = [value or 0.0 for value in columns[position]]
    dates = pd.DatetimeIndex(frame.index).date.tolist()
    keys = ("symbol", "date", *COLUMNS)
    return [dict(zip(keys, values, strict=True)) for values in zip(repeat(symbol), dates, *columns)]


def _nullable(values: np.ndarray) -> list[float | None]:
    boxed = values.astype(object)
    boxed[np.isnan(values)] = None
    out: list[float | None] = boxed.tolist()
    return out


_READ_COLUMNS = (
    DailyPrice.symbol,
    DailyPrice.date,
    DailyPrice.open,
    DailyPrice.high,
    DailyPrice.low,
    DailyPrice.close,
    DailyPrice.adj_close,
    DailyPrice.volume,
    DailyPrice.dividends,
    DailyPrice.splits,
    DailyPrice.currency,
)


def read_bars(session: Session, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Stored bars for one symbol and date range (inclusive), in the ``PriceSource`` frame shape."""
    symbol = normalise_symbol(symbol)
    return read_bars_many(session, [symbol], start, end)[symbol]


def read_bars_many(
    session: Session, symbols: Iterable[str], start: date | None = None, end: date | None = None
) -> dict[str, pd.DataFrame]:
    """Stored bars for several symbols in one query; a symbol with nothing stored maps to an empty frame."""
    wanted = list(dict.fromkeys(normalise_symbol(s) for s in symbols))
    query = select(*_READ_COLUMNS).where(DailyPrice.symbol.in_(wanted)).order_by(DailyPrice.symbol, DailyPrice.date)
    if start is not None:
        query = query.where(DailyPrice.date >= start)
    if end is not None:
        query = query.where(DailyPrice.date <= end)
    records = session.execute(query).all()
    out: dict[str, pd.DataFrame] = {symbol: empty_frame() for symbol in wanted}
    if not records:
        return out
    table = pd.DataFrame.from_records(records, columns=[c.key for c in _READ_COLUMNS])
    table["date"] = pd.to_datetime(table["date"])
    for symbol, group in table.groupby("symbol", sort=False):
        frame = group.set_index(pd.DatetimeIndex(group["date"], name="date").as_unit("ns"))
        bars = frame.loc[:, list(COLUMNS)].astype("float64")
        currencies = frame["currency"].dropna()
        bars.attrs = {"currency": currencies.iloc[-1] if len(currencies) else None, "source": "store"}
        out[str(symbol)] = bars
    return out
