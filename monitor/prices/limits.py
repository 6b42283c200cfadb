"""How far one session can move a price: exchange price limits, or a configured bound where there are none.

A return beyond what the exchange allows is not a market reaction but a data error (a split the file does not
adjust for, a stray tick, a wrong row): it is flagged as suspect, kept out of estimation and shown, never used
silently. Mainland A-shares have daily limits on the previous close: ±10% on the main boards, ±20% on ChiNext
(300xxx/301xxx) since its registration reform of 2020-08-24 and on STAR (688xxx/689xxx) since it opened on
2019-07-22; risk-warned (ST) shares have ±5%, inside the board's bound, so the board's limit is a safe upper bound.
Limit prices are rounded to the fen, so a cheap stock can close a little past the exact fraction; ``TOLERANCE``
allows for that. Markets without limits (US, Hong Kong …) use the configured ``bound``, symmetric in log terms
(a bound of 1.0 flags a session above +100% or below −50%). A return spanning ``k`` sessions (after a halt) may
move up to the compounded bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitor.prices.exchanges import is_index, suffix_of

TOLERANCE = 0.01  # absolute: a limit price rounded to 0.01 CNY on a ~1 CNY stock
CHINEXT_REFORM = date(2020, 8, 24)  # ChiNext's ±20% limit starts (±10% before)
STAR_OPENED = date(2019, 7, 22)  # STAR's first trading day, ±20% from the start


def a_share_limit(symbol: str, on: date) -> float | None:
    """The board's daily price limit (a fraction) for a mainland share, or None outside the mainland."""
    suffix = suffix_of(symbol)
    if suffix not in (".SS", ".SZ") or is_index(symbol):
        return None
    code = symbol.split(".")[0]
    if suffix == ".SZ" and code.startswith(("300", "301")):
        return 0.20 if on >= CHINEXT_REFORM else 0.10
    if suffix == ".SS" and code.startswith(("688", "689")):
        return 0.20 if on >= STAR_OPENED else 0.10
    return 0.10


def move_limits(
    symbols: Sequence[str], sessions: pd.DatetimeIndex, bound: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(T, N) per-session bounds and (N,) whether each is an arithmetic exchange limit (else a log bound)."""
    limits = np.full((len(sessions), len(symbols)), float(bound))
    arithmetic = np.zeros(len(symbols), dtype=bool)
    reform = np.asarray(sessions.values.astype("datetime64[D]") >= np.datetime64(CHINEXT_REFORM))
    star = np.asarray(sessions.values.astype("datetime64[D]") >= np.datetime64(STAR_OPENED))
    for column, symbol in enumerate(symbols):  # a table lookup per security, not per session
        main = a_share_limit(symbol, date(2000, 1, 1))
        if main is None:
            continue
        arithmetic[column] = True
        after = a_share_limit(symbol, date(2100, 1, 1)) or main
        switch = reform if symbol.startswith(("300", "301")) else star
        limits[:, column] = np.where(switch, after, main)
    return limits, arithmetic


def beyond(
    returns: npt.NDArray[np.float64],
    spans: npt.NDArray[np.integer],
    limits: npt.NDArray[np.float64],
    arithmetic: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Which returns (T, N) exceed their session bound compounded over the sessions they span (NaN: no)."""
    k = np.maximum(spans, 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        up = np.where(arithmetic, (1.0 + limits) ** k - 1.0 + TOLERANCE, (1.0 + limits) ** k - 1.0)
        down = np.where(arithmetic, (1.0 - limits) ** k - 1.0 - TOLERANCE, (1.0 + limits) ** -k - 1.0)
        out: npt.NDArray[np.bool_] = np.isfinite(returns) & ((returns > up) | (returns < down))
    return out
