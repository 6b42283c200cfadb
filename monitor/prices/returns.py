"""Simple returns from adjusted closes, aligned to an exchange's expected sessions, with halts made explicit.

A session is *traded* when the security has a bar with a positive adjusted close and volume that is not zero.
An expected session with no bar, or with zero volume (baostock's suspended A-share rows, Yahoo's flat HK rows), is
a *halt*: it gets no return, never a zero return. The next traded session's return runs from the last traded close
(trade-to-trade) and is tagged with ``span``, the number of sessions it covers (1 for an ordinary day), so the
study can compound the benchmark over the same sessions and scale the variance by ``span``. Sessions before a
security's first bar, or after the data runs out, are *no data*, not halts.

Indices report no volume (``^GSPC`` for most of its history, ``^SOX`` always), so for them zero volume is not a halt.
Everything is vectorised over sessions × securities; there is no Python loop over days.

Guards (with ``move_bound``): a bar whose close is zero, negative or missing is a *bad price*, not a halt; so is a
lone spike, a close that jumps beyond the session's bound (``monitor.prices.limits``) and straight back; either way
the return runs trade-to-trade across it. A return that still exceeds its bound (an unadjusted split, a wrong row)
is *suspect*: kept, flagged, and left to the study to keep out of estimation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from monitor.prices.exchanges import is_index
from monitor.prices.limits import beyond, move_limits

TRADED = 0
HALTED = 1
NO_DATA = 2
BAD_PRICE = 3  # a bar with a zero, negative or missing close, or a lone spike: no price we can use
SUSPECT = 4  # traded, but the return ending here is beyond the exchange's limit or the configured bound
STATUS_NAMES = ("traded", "halted", "no_data", "bad_price", "suspect")


@dataclass(frozen=True)
class ReturnPanel:
    """Returns of N securities on T sessions of one calendar. Arrays are (T, N); ``returns`` is NaN and ``spans``
    is 0 wherever a session has no return (halted, no data, or the first traded session)."""

    sessions: pd.DatetimeIndex
    symbols: tuple[str, ...]
    prices: np.ndarray  # adjusted close on traded sessions, NaN elsewhere
    returns: np.ndarray  # simple trade-to-trade returns
    spans: np.ndarray  # sessions covered by each return (int32)
    status: np.ndarray  # TRADED / HALTED / NO_DATA codes (int8)

    def frame(self, what: str = "returns") -> pd.DataFrame:
        """One of ``prices``, ``returns``, ``spans``, ``status`` as a sessions × symbols DataFrame."""
        arrays = {"prices": self.prices, "returns": self.returns, "spans": self.spans, "status": self.status}
        return pd.DataFrame(arrays[what], index=self.sessions, columns=list(self.symbols))

    @property
    def halted(self) -> np.ndarray:
        mask: np.ndarray = self.status == HALTED
        return mask


def lay_frames(
    bars_by_symbol: Mapping[str, pd.DataFrame], sessions: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(adj_close, volume, has_bar) reindexed to ``sessions``, one column per frame; bars on other dates are
    ignored."""
    count = len(sessions)
    width = len(bars_by_symbol)
    prices = np.full((count, width), np.nan)
    volumes = np.full((count, width), np.nan)
    has_bar = np.zeros((count, width), dtype=bool)
    keys = sessions.values.astype("datetime64[ns]").view("i8")
    for column, bars in enumerate(bars_by_symbol.values()):
        if bars.empty:
            continue
        dates = pd.DatetimeIndex(bars.index).values.astype("datetime64[ns]").view("i8")
        positions = np.searchsorted(keys, dates)
        inside = positions < count
        inside[inside] = keys[positions[inside]] == dates[inside]
        rows = positions[inside]
        prices[rows, column] = bars["adj_close"].to_numpy(dtype="float64")[inside]
        volumes[rows, column] = bars["volume"].to_numpy(dtype="float64")[inside]
        has_bar[rows, column] = True
    return prices, volumes, has_bar


def returns_panel(
    bars_by_symbol: Mapping[str, pd.DataFrame],
    sessions: pd.DatetimeIndex,
    *,
    through: date | Sequence[date | None] | None = None,
    zero_volume_is_halt: Sequence[bool] | None = None,
    move_bound: float | None = None,
) -> ReturnPanel:
    """Trade-to-trade simple returns for each security on ``sessions`` (its exchange's expected sessions).

    ``through`` is the last date the data is known to be complete (e.g. the store's last final session); expected
    sessions up to it without a traded bar are halts. By default it is each security's last bar.
    ``zero_volume_is_halt`` defaults to True for shares and False for indices.
    ``move_bound`` turns the guards on: the bound for markets without price limits (A-shares use their board's
    limit), e.g. 1.0 for +100%/−50% in one session.
    """
    sessions = pd.DatetimeIndex(sessions).as_unit("ns")
    prices, volumes, has_bar = lay_frames(bars_by_symbol, sessions)
    return returns_from_arrays(
        tuple(bars_by_symbol), sessions, prices, volumes, has_bar, through=through,
        zero_volume_is_halt=zero_volume_is_halt, move_bound=move_bound,
    )  # fmt: skip


def returns_from_arrays(
    symbols: Sequence[str],
    sessions: pd.DatetimeIndex,
    prices: np.ndarray,
    volumes: np.ndarray,
    has_bar: np.ndarray,
    *,
    through: date | Sequence[date | None] | None = None,
    zero_volume_is_halt: Sequence[bool] | None = None,
    move_bound: float | None = None,
) -> ReturnPanel:
    """``returns_panel`` from bars already laid on ``sessions``: (T, N) adjusted closes and volumes (NaN where
    there is no bar) and ``has_bar``. A backfill lays every event's bars from one array history per symbol instead
    of a frame per (event, symbol); ``prices`` and ``has_bar`` are not modified."""
    symbols = tuple(symbols)
    sessions = pd.DatetimeIndex(sessions).as_unit("ns")
    count, width = prices.shape
    if zero_volume_is_halt is None:
        zero_volume_is_halt = [not is_index(symbol) for symbol in symbols]
    zero_halts = np.asarray(zero_volume_is_halt, dtype=bool)[None, :]
    stopped = zero_halts & (volumes == 0)
    priced = np.isfinite(prices) & (prices > 0)
    bad = has_bar & ~stopped & ~priced
    traded = has_bar & priced & ~stopped

    rows = np.arange(count)[:, None]
    returns, spans, previous = _trade_to_trade(prices, traded, rows)
    suspect = np.zeros((count, width), dtype=bool)
    if move_bound is not None and count:
        limits, arithmetic = move_limits(symbols, sessions, move_bound)
        over = beyond(returns, spans, limits, arithmetic)
        spikes = _lone_spikes(over, returns, prices, traded, previous, spans, limits, arithmetic, rows)
        if spikes.any():
            bad |= spikes
            traded &= ~spikes
            returns, spans, previous = _trade_to_trade(prices, traded, rows)
            over = beyond(returns, spans, limits, arithmetic)
        suspect = over

    first_bar = np.where(has_bar.any(axis=0), has_bar.argmax(axis=0), count)
    last_bar = np.where(has_bar.any(axis=0), count - 1 - has_bar[::-1].argmax(axis=0), -1)
    limit = _through_positions(through, sessions, width, last_bar)
    expected = (rows >= first_bar[None, :]) & (rows <= limit[None, :])
    status = np.full((count, width), NO_DATA, dtype=np.int8)
    status[expected & ~traded] = HALTED
    status[traded] = TRADED
    status[bad & expected] = BAD_PRICE
    status[suspect] = SUSPECT
    return ReturnPanel(
        sessions=sessions,
        symbols=symbols,
        prices=np.where(traded, prices, np.nan),
        returns=returns,
        spans=spans,
        status=status,
    )


def _trade_to_trade(
    prices: np.ndarray, traded: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns from each traded close to the previous traded one, the sessions they span, and that row."""
    width = prices.shape[1]
    last_traded = np.maximum.accumulate(np.where(traded, rows, -1), axis=0)
    previous = np.vstack([np.full((1, width), -1), last_traded[:-1]]) if len(prices) else last_traded
    has_return = traded & (previous >= 0)
    base = np.take_along_axis(prices, np.where(previous >= 0, previous, 0), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = np.where(has_return, prices / base - 1.0, np.nan)
    spans = np.where(has_return, rows - previous, 0).astype(np.int32)
    return returns, spans, previous


def _lone_spikes(
    over: np.ndarray,
    returns: np.ndarray,
    prices: np.ndarray,
    traded: np.ndarray,
    previous: np.ndarray,
    spans: np.ndarray,
    limits: np.ndarray,
    arithmetic: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """Closes that jump beyond the bound and straight back: the return into them and the next one both exceed it,
    in opposite directions, while the return across them does not. Those closes are bad prices."""
    count = len(prices)
    following = np.minimum.accumulate(np.where(traded, rows, count)[::-1], axis=0)[::-1]
    after = np.vstack([following[1:], np.full((1, prices.shape[1]), count)])  # next traded row after each row
    has_next = traded & (after < count) & (previous >= 0)
    nxt = np.where(has_next, after, 0)
    out_return = np.take_along_axis(returns, nxt, axis=0)
    out_over = np.take_along_axis(over, nxt, axis=0)
    base = np.take_along_axis(prices, np.where(previous >= 0, previous, 0), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        across = np.take_along_axis(prices, nxt, axis=0) / base - 1.0
    span = np.where(has_next, nxt - np.where(previous >= 0, previous, 0), 1)
    fine = ~beyond(across, span, limits, arithmetic)
    reverses = np.sign(returns) == -np.sign(out_return)
    spikes: np.ndarray = has_next & over & out_over & reverses & fine
    return spikes


def _through_positions(
    through: date | Sequence[date | None] | None, sessions: pd.DatetimeIndex, width: int, last_bar: np.ndarray
) -> np.ndarray:
    if through is None:
        return last_bar
    values = [through] * width if isinstance(through, date) else list(through)
    if len(values) != width:
        raise ValueError(f"through has {len(values)} dates for {width} securities")
    keys = sessions.values.astype("datetime64[ns]").view("i8")
    limit = last_bar.copy()
    for column, value in enumerate(values):
        if value is not None:
            limit[column] = int(np.searchsorted(keys, pd.Timestamp(value).value, side="right")) - 1
    return limit


def session_returns(
    bars: pd.DataFrame,
    sessions: pd.DatetimeIndex,
    *,
    symbol: str = "",
    through: date | None = None,
    zero_volume_is_halt: bool | None = None,
) -> pd.DataFrame:
    """One security's returns on ``sessions``: columns ``adj_close, volume, ret, span, prev_session, status,
    halted``. ``prev_session`` is the traded session each return starts from (NaT when there is no return)."""
    halts = not (symbol and is_index(symbol)) if zero_volume_is_halt is None else zero_volume_is_halt
    panel = returns_panel({symbol or "_": bars}, sessions, through=through, zero_volume_is_halt=[halts])
    sessions = panel.sessions
    spans = panel.spans[:, 0]
    rows = np.arange(len(sessions))
    start_rows = np.where(spans > 0, rows - spans, 0)
    previous = pd.DatetimeIndex(sessions.values[start_rows]).where(spans > 0)
    reindexed = bars.reindex(sessions)
    status = panel.status[:, 0]
    return pd.DataFrame(
        {
            "adj_close": reindexed["adj_close"].to_numpy(dtype="float64"),
            "volume": reindexed["volume"].to_numpy(dtype="float64"),
            "ret": panel.returns[:, 0],
            "span": spans,
            "prev_session": previous,
            "status": pd.Categorical.from_codes(status, categories=list(STATUS_NAMES)),
            "halted": status == HALTED,
        },
        index=sessions.rename("date"),
    )


def compound_over_spans(levels: np.ndarray | pd.Series, spans: np.ndarray) -> np.ndarray:
    """A benchmark's return over the same sessions as each security return: ``level[t] / level[t - span] - 1``.

    ``levels`` are the benchmark's adjusted closes on the same T sessions (NaN where it has none); ``spans`` is
    (T,) or (T, N) from ``returns_panel``. Entries with ``span == 0``, or a missing level at either end, are NaN:
    a gap in the benchmark is never papered over.
    """
    level = np.asarray(levels, dtype="float64")
    span = np.asarray(spans)
    if level.ndim != 1 or span.shape[0] != level.shape[0]:
        raise ValueError(f"levels has shape {level.shape}, spans {span.shape}: both need the same T sessions first")
    rows = np.arange(level.shape[0]).reshape((-1,) + (1,) * (span.ndim - 1))
    start = np.clip(rows - span, 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = level[rows] / level[start] - 1.0
    out = np.broadcast_to(out, span.shape).astype("float64", copy=True)
    out[span <= 0] = np.nan
    return out
