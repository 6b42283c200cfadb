"""Simple returns from adjusted closes, aligned to an exchange's expected sessions, with halts made explicit.

A session is *traded* when the security has a bar with a positive adjusted close and volume that is not zero.
An expected session with no bar, or with zero volume (baostock's suspended A-share rows, Yahoo's flat HK rows), is
a *halt*: it gets no return, never a zero return. The next traded session's return runs from the last traded close
(trade-to-trade) and is tagged with ``span``, the number of sessions it covers (1 for an ordinary day), so the
study can compound the benchmark over the same sessions and scale the variance by ``span``. Sessions before a
security's first bar, or after the data runs out, are *no data*, not halts.

Indices report no volume (``^GSPC`` for most of its history, ``^SOX`` always), so for them zero volume is not a halt.
Everything is vectorised over sessions × securities; there is no Python loop over days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from monitor.prices.exchanges import is_index

TRADED = 0
HALTED = 1
NO_DATA = 2
STATUS_NAMES = ("traded", "halted", "no_data")


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


def _matrices(
    bars_by_symbol: Mapping[str, pd.DataFrame], sessions: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(adj_close, volume, has_bar) reindexed to ``sessions``; bars on other dates are ignored."""
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
) -> ReturnPanel:
    """Trade-to-trade simple returns for each security on ``sessions`` (its exchange's expected sessions).

    ``through`` is the last date the data is known to be complete (e.g. the store's last final session); expected
    sessions up to it without a traded bar are halts. By default it is each security's last bar.
    ``zero_volume_is_halt`` defaults to True for shares and False for indices.
    """
    symbols = tuple(bars_by_symbol)
    sessions = pd.DatetimeIndex(sessions).as_unit("ns")
    prices, volumes, has_bar = _matrices(bars_by_symbol, sessions)
    count, width = prices.shape
    if zero_volume_is_halt is None:
        zero_volume_is_halt = [not is_index(symbol) for symbol in symbols]
    zero_halts = np.asarray(zero_volume_is_halt, dtype=bool)[None, :]
    traded = has_bar & np.isfinite(prices) & (prices > 0) & ~(zero_halts & (volumes == 0))

    rows = np.arange(count)[:, None]
    last_traded = np.maximum.accumulate(np.where(traded, rows, -1), axis=0)
    previous = np.vstack([np.full((1, width), -1), last_traded[:-1]]) if count else last_traded
    has_return = traded & (previous >= 0)
    safe_previous = np.where(previous >= 0, previous, 0)
    base = np.take_along_axis(prices, safe_previous, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = np.where(has_return, prices / base - 1.0, np.nan)
    spans = np.where(has_return, rows - previous, 0).astype(np.int32)

    first_bar = np.where(has_bar.any(axis=0), has_bar.argmax(axis=0), count)
    last_bar = np.where(has_bar.any(axis=0), count - 1 - has_bar[::-1].argmax(axis=0), -1)
    limit = _through_positions(through, sessions, width, last_bar)
    expected = (rows >= first_bar[None, :]) & (rows <= limit[None, :])
    status = np.full((count, width), NO_DATA, dtype=np.int8)
    status[expected & ~traded] = HALTED
    status[traded] = TRADED
    return ReturnPanel(
        sessions=sessions,
        symbols=symbols,
        prices=np.where(traded, prices, np.nan),
        returns=returns,
        spans=spans,
        status=status,
    )


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
