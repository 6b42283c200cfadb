"""Where daily bars come from: the ``PriceSource`` protocol, the CSV-directory source and source selection.

Every source returns the same frame: columns ``open, high, low, close, adj_close, volume, dividends, splits``
(float64), indexed by the exchange-local session date (tz-naive ``DatetimeIndex`` named ``date``), sorted, one row
per date. ``close`` is the price as traded (Yahoo: split-adjusted), ``adj_close`` also carries dividends.
``frame.attrs["currency"]`` holds the quote currency when the source knows it. A halted session comes through as a
row with volume 0 (or no row at all); it is never dropped or filled by the source, so halts stay visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from monitor.errors import ConfigError, InputError, MonitorError, NoPriceData
from monitor.logs import get_logger
from monitor.prices.exchanges import normalise_symbol

log = get_logger(__name__)

COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume", "dividends", "splits")
_REQUIRED_CSV = ("date", "open", "high", "low", "close", "volume")
_OPTIONAL_CSV = ("adj_close", "dividends", "splits", "preclose", "trade_status")


@runtime_checkable
class PriceSource(Protocol):
    """A supplier of daily bars. ``start``/``end`` are inclusive session dates; ``None`` means unbounded."""

    @property
    def name(self) -> str: ...

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame: ...


def empty_frame() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in COLUMNS})
    frame.index = pd.DatetimeIndex([], dtype="datetime64[ns]", name="date")
    return frame


def conform(frame: pd.DataFrame, *, symbol: str, origin: str) -> pd.DataFrame:
    """Shape a source's frame into the protocol's form; problems raise ``InputError`` naming ``origin``."""
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"{origin}: {symbol} frame lacks column(s) {missing}")
    out = frame.loc[:, list(COLUMNS)].astype("float64")
    index = pd.DatetimeIndex(out.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    out.index = index.normalize().as_unit("ns").rename("date")
    out = out.sort_index(kind="stable")
    duplicated = out.index.duplicated(keep="first")
    if duplicated.any():
        out = _drop_identical_duplicates(out, duplicated, symbol=symbol, origin=origin)
    out["dividends"] = out["dividends"].fillna(0.0)
    out["splits"] = out["splits"].fillna(0.0)
    out.attrs = dict(frame.attrs)
    return out


def _drop_identical_duplicates(
    frame: pd.DataFrame, duplicated: np.ndarray, *, symbol: str, origin: str
) -> pd.DataFrame:
    """A repeated date whose rows agree is a harmless echo (dropped); rows that disagree are refused, because
    keeping either one blindly can turn a stale or wrong quote into a huge return."""
    values = frame.to_numpy(dtype="float64")
    first = np.maximum.accumulate(np.where(duplicated, 0, np.arange(len(frame))))  # the sorted run's first row
    same = (values == values[first]) | (np.isnan(values) & np.isnan(values[first]))
    echo = duplicated & same.all(axis=1)
    conflicting = sorted({d.date().isoformat() for d in frame.index[duplicated & ~echo]})
    if conflicting:
        shown = ", ".join(conflicting[:5]) + (" …" if len(conflicting) > 5 else "")
        raise InputError(
            f"{origin}: {symbol} has {len(conflicting)} date(s) with conflicting rows ({shown}); refusing the file "
            "rather than guessing which row is right"
        )
    log.warning("price_duplicate_dates", symbol=symbol, origin=origin, dropped=int(echo.sum()))
    return frame[~echo]


def slice_dates(frame: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    return frame.loc[lo:hi]


# --- CSV directory ----------------------------------------------------------------------------------------------


def _derive_adj_close(frame: pd.DataFrame, file: Path) -> pd.Series:
    """Fill ``adj_close`` where a vendor left it empty.

    Rows with a value keep it. If the file has some values, a missing row takes the adjustment factor
    (adj_close / close) of the next row that has one: adjustments reach backwards from each dividend or split.
    If the whole column is empty and the file has the exchange's ex-rights previous close (``preclose``, as in
    baostock A-share exports), the back-adjusted total-return close is chained from ``close / preclose`` and anchored
    at the last raw close. Otherwise, a ``splits`` column (the ratio on its ex-date, 4 for 4:1, as Yahoo writes it)
    and a ``dividends`` column (cash per share on the ex-date) are applied backwards the way Yahoo adjusts. Without
    them ``close`` is used as is and the returns ignore dividends and splits (logged: an unadjusted split then shows
    up as a return beyond the daily bound, which the returns flag as suspect).
    """
    close = frame["close"]
    adj = frame["adj_close"] if "adj_close" in frame.columns else pd.Series(np.nan, index=frame.index)
    if adj.notna().all():
        return adj
    if adj.notna().any():
        factor = (adj / close).bfill().ffill()
        return adj.fillna(close * factor)
    if "preclose" in frame.columns and frame["preclose"].notna().all() and (frame["preclose"] > 0).all():
        growth = (close / frame["preclose"]).to_numpy(dtype="float64")
        # adj[t] = adj[t-1] * close[t] / preclose[t]; anchored so that adj[last] == close[last].
        cumulative = np.cumprod(growth)
        return pd.Series(cumulative / cumulative[-1] * close.iloc[-1], index=frame.index)
    splits = frame["splits"].fillna(0.0) if "splits" in frame.columns else None
    dividends = frame["dividends"].fillna(0.0) if "dividends" in frame.columns else None
    if splits is not None and bool((splits < 0).any()):
        raise InputError(f"{file}: negative split ratio; expected the ratio on the ex-date (4 for a 4:1 split)")
    if (splits is not None and bool((splits > 0).any())) or (dividends is not None and bool((dividends > 0).any())):
        return _adjust_backwards(close, splits, dividends)
    log.info("prices_unadjusted", file=str(file), detail="no adj_close, preclose, splits or dividends: raw closes used")
    return close.copy()


def _adjust_backwards(close: pd.Series, splits: pd.Series | None, dividends: pd.Series | None) -> pd.Series:
    """Yahoo's adjustment: every close before an ex-date is multiplied by 1/ratio (split) and by
    1 − dividend/previous close (dividend); the last close is left as traded."""
    step = np.ones(len(close))
    raw = close.to_numpy(dtype="float64")
    if splits is not None:
        ratio = splits.to_numpy(dtype="float64")
        step = np.where(ratio > 0, 1.0 / np.where(ratio > 0, ratio, 1.0), step)
    if dividends is not None:
        cash = dividends.to_numpy(dtype="float64")
        previous = np.concatenate([[np.nan], raw[:-1]])
        with np.errstate(invalid="ignore", divide="ignore"):
            step = step * np.where((cash > 0) & (previous > 0), 1.0 - cash / previous, 1.0)
    # The factor of row t is the product of the steps of every later ex-date (row t+1 onwards).
    later = np.concatenate([np.cumprod(step[::-1])[::-1][1:], [1.0]])
    return pd.Series(raw * later, index=close.index)


class CsvDirectorySource:
    """``SYMBOL.csv`` files in one directory (vendor exports, the bundled offline data).

    Header ``date,open,high,low,close,adj_close,volume``; ``adj_close``, ``dividends`` and ``splits`` are optional
    and other columns are ignored, except ``trade_status`` (0 = suspended, as baostock writes halted days) and
    ``preclose`` (used to derive an empty ``adj_close``). A suspended row keeps its date with volume 0: a halt.
    """

    def __init__(self, path: str | Path, *, option: str = "--source") -> None:
        """``option``: the flag or setting that named the directory, so the error names what the user typed."""
        self._path = Path(path).expanduser()
        if not self._path.is_dir():
            raise ConfigError(f"price directory {self._path} does not exist or is not a directory", setting=option)

    @property
    def name(self) -> str:
        return f"dir:{self._path}"

    @property
    def path(self) -> Path:
        return self._path

    def symbols(self) -> list[str]:
        return sorted(p.stem for p in self._path.glob("*.csv"))

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        symbol = normalise_symbol(symbol)
        file = self._path / f"{symbol}.csv"
        if not file.is_file():
            raise NoPriceData(f"{symbol}: no file {file.name} in {self._path}", symbol=symbol)
        return slice_dates(self._read(symbol, file), start, end)

    def _read(self, symbol: str, file: Path) -> pd.DataFrame:
        wanted = set(_REQUIRED_CSV) | set(_OPTIONAL_CSV)
        try:
            header = [str(column) for column in pd.read_csv(file, nrows=0).columns]
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"{file}: cannot read CSV: {exc}") from exc
        keep = {column: column.strip().lower() for column in header if column.strip().lower() in wanted}
        missing = [column for column in _REQUIRED_CSV if column not in keep.values()]
        if missing:
            raise InputError(f"{file}: missing column(s) {missing}; expected date,open,high,low,close,adj_close,volume")
        try:  # fast path: the C parser reads numbers directly
            dtypes = {column: (str if name == "date" else "float64") for column, name in keep.items()}
            raw = pd.read_csv(file, usecols=list(keep), dtype=dtypes).rename(columns=keep)
        except (ValueError, pd.errors.ParserError):  # a malformed number: read as text to say where
            raw = pd.read_csv(file, usecols=list(keep), dtype=str).rename(columns=keep)
        frame = self._parse(raw, file)
        frame["adj_close"] = _derive_adj_close(frame, file)
        if "trade_status" in frame.columns:
            suspended = frame["trade_status"] == 0
            frame.loc[suspended, "volume"] = 0.0
        for column in ("dividends", "splits"):
            if column not in frame.columns:
                frame[column] = 0.0
        frame.attrs["source"] = self.name
        return conform(frame, symbol=symbol, origin=str(file))

    @staticmethod
    def _parse(raw: pd.DataFrame, file: Path) -> pd.DataFrame:
        dates = pd.to_datetime(raw["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
        if dates.isna().any():
            line = int(np.flatnonzero(dates.isna().to_numpy())[0]) + 2
            raise InputError(f"{file}, line {line}: date {raw['date'].iloc[line - 2]!r} is not YYYY-MM-DD")
        numbers: dict[str, Any] = {}
        for column in raw.columns:
            if column == "date":
                continue
            if raw[column].dtype == "float64":
                numbers[column] = raw[column].to_numpy()
                continue
            text = raw[column].str.strip()
            values = pd.to_numeric(text, errors="coerce")
            bad = values.isna() & text.notna() & (text != "")
            if bad.any():
                line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
                raise InputError(f"{file}, line {line}: {column} {text.iloc[line - 2]!r} is not a number")
            numbers[column] = values.astype("float64").to_numpy()
        frame = pd.DataFrame(numbers, index=pd.DatetimeIndex(dates, name="date"))
        no_close = frame["close"].isna()
        if no_close.any():
            log.warning("price_rows_without_close", file=str(file), dropped=int(no_close.sum()))
            frame = frame[~no_close]
        return frame


class StaticSource:
    """Bars held in memory (per symbol); the backfill and tests use it as a source with known contents."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, name: str = "static") -> None:
        self._frames = {
            normalise_symbol(symbol): conform(frame, symbol=symbol, origin=name) for symbol, frame in frames.items()
        }
        self._name = name
        self.calls: list[tuple[str, date | None, date | None]] = []

    @property
    def name(self) -> str:
        return self._name

    def set(self, symbol: str, frame: pd.DataFrame) -> None:
        self._frames[normalise_symbol(symbol)] = conform(frame, symbol=symbol, origin=self._name)

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        symbol = normalise_symbol(symbol)
        self.calls.append((symbol, start, end))
        if symbol not in self._frames:
            raise NoPriceData(f"{symbol}: not in {self._name}", symbol=symbol)
        return slice_dates(self._frames[symbol], start, end).copy()


def describe_error(exc: BaseException) -> str:
    """One line for the sync state and logs; our errors already are one line."""
    if isinstance(exc, MonitorError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
