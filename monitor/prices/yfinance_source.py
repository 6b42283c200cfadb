"""Yahoo Finance through yfinance: one ticker at a time, through one throttled worker, with typed failures.

Why it looks like this (see ../shared/reference/libraries.md §1):
- ``yf.download`` hides per-ticker failures, rate limits included, as all-NaN columns, so we call
  ``Ticker(symbol).history(auto_adjust=False, actions=True)`` per symbol with ``hide_exceptions = False``: raw close,
  adjusted close, dividends and splits, and real exceptions.
- Yahoo blocks clients that hammer it. Every request goes through one worker thread at about
  ``prices.requests_per_second`` with jitter. A ``YFRateLimitError`` pauses the whole worker with exponential
  backoff (minutes, capped); while paused, calls fail fast with ``RateLimited`` instead of retrying in a loop, and
  ``status`` reads ``degraded`` until a request succeeds again.
- yfinance caches each ticker's time zone in a SQLite file; we keep it in the data directory, not ``~/.cache``.
  yfinance binds that file on first use, so the first ``YFinanceSource`` of a process decides where it lives.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from monitor.clock import ensure_utc
from monitor.errors import NoPriceData, PriceSourceUnavailable, RateLimited
from monitor.logs import get_logger
from monitor.prices.exchanges import normalise_symbol
from monitor.prices.sources import conform, empty_frame

log = get_logger(__name__)

T = TypeVar("T")

_YAHOO_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
    "Dividends": "dividends",
    "Stock Splits": "splits",
}
INTRADAY_INTERVAL = "5m"  # Yahoo keeps 5-minute bars (with extended hours) for the last 60 days


class ThrottledWorker:
    """Runs callables one at a time on a single thread, spaced ``1/rate`` seconds apart (± ``jitter``).

    A call that raises the ``rate_limit_error`` type pauses the worker for ``backoff_base`` seconds, doubling with
    each consecutive rate limit up to ``backoff_max``; during the pause every call raises ``RateLimited`` at once.
    ``sleep``, ``monotonic`` and ``rng`` are injectable so tests run instantly and deterministically.
    """

    def __init__(
        self,
        *,
        rate: float = 1.0,
        jitter: float = 0.25,
        backoff_base: float = 60.0,
        backoff_max: float = 1800.0,
        rate_limit_error: type[BaseException] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._jitter = jitter
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._rate_limit_error = rate_limit_error
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="price-fetch")
        self._lock = threading.Lock()
        self._next_slot = float("-inf")
        self._paused_until = float("-inf")
        self._strikes = 0
        self.requests = 0
        self.rate_limits = 0

    @property
    def degraded(self) -> bool:
        with self._lock:
            return self._strikes > 0

    def retry_after(self) -> float:
        """Seconds until the worker accepts calls again (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - self._monotonic())

    def run(self, label: str, func: Callable[[], T]) -> T:
        """Run ``func`` on the worker thread and return its result (or raise its exception) here."""
        return self._executor.submit(self._call, label, func).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _call(self, label: str, func: Callable[[], T]) -> T:
        now = self._monotonic()
        with self._lock:
            paused_for = self._paused_until - now
        if paused_for > 0:
            raise RateLimited(
                f"{label}: price source paused after a rate limit; retry in {paused_for:.0f} s",
                symbol=label,
                retry_after=paused_for,
            )
        wait = self._next_slot - now
        if wait > 0:
            self._sleep(wait)
        try:
            self.requests += 1
            result = func()
        except BaseException as exc:
            if self._rate_limit_error is not None and isinstance(exc, self._rate_limit_error):
                raise self._rate_limited(label) from exc
            raise
        finally:
            spacing = self._interval * (1.0 + self._rng.uniform(-self._jitter, self._jitter))
            self._next_slot = self._monotonic() + spacing
        with self._lock:
            if self._strikes:
                log.info("price_source_recovered", after_rate_limits=self._strikes)
            self._strikes = 0
        return result

    def _rate_limited(self, label: str) -> RateLimited:
        with self._lock:
            self._strikes += 1
            self.rate_limits += 1
            pause = min(self._backoff_base * 2 ** (self._strikes - 1), self._backoff_max)
            self._paused_until = self._monotonic() + pause
            strikes = self._strikes
        log.warning("price_source_rate_limited", symbol=label, pause_seconds=pause, consecutive=strikes)
        return RateLimited(
            f"{label}: Yahoo rate limit; pausing requests for {pause:.0f} s", symbol=label, retry_after=pause
        )


_shared_worker: ThrottledWorker | None = None
_shared_lock = threading.Lock()


def shared_worker(rate: float, backoff_base: float, backoff_max: float) -> ThrottledWorker:
    """The process-wide Yahoo worker: Yahoo limits per client address, so two sources must not double the rate."""
    global _shared_worker
    from yfinance.exceptions import YFRateLimitError

    with _shared_lock:
        if _shared_worker is None:
            _shared_worker = ThrottledWorker(
                rate=rate, backoff_base=backoff_base, backoff_max=backoff_max, rate_limit_error=YFRateLimitError
            )
        return _shared_worker


class YFinanceSource:
    """Daily bars (and recent intraday trades) from Yahoo Finance."""

    name = "yfinance"

    def __init__(
        self,
        *,
        cache_dir: Path,
        worker: ThrottledWorker | None = None,
        timeout: float = 20.0,
        network_retries: int = 2,
        requests_per_second: float = 1.0,
        backoff_base: float = 60.0,
        backoff_max: float = 1800.0,
    ) -> None:
        import yfinance as yf

        cache_dir.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(cache_dir))
        yf.config.debug.hide_exceptions = False  # typed exceptions instead of empty frames and log lines
        yf.config.network.retries = network_retries  # transient network errors only; a 429 is never retried by it
        self._timeout = timeout
        self._worker = worker or shared_worker(requests_per_second, backoff_base, backoff_max)

    @classmethod
    def from_settings(cls, settings: Any) -> YFinanceSource:
        prices = settings.prices
        return cls(
            cache_dir=Path(settings.data_dir) / "yfinance",
            timeout=settings.network.timeout_seconds,
            network_retries=min(settings.network.max_retries, 5),
            requests_per_second=prices.requests_per_second,
            backoff_base=prices.rate_limit_backoff_seconds,
            backoff_max=prices.rate_limit_backoff_max_seconds,
        )

    @property
    def status(self) -> str:
        return "degraded" if self._worker.degraded else "ok"

    def retry_after(self) -> float:
        return self._worker.retry_after()

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        symbol = normalise_symbol(symbol)
        frame, currency = self._worker.run(symbol, lambda: self._fetch_daily(symbol, start, end))
        out = conform(frame.rename(columns=_YAHOO_COLUMNS), symbol=symbol, origin="yfinance")
        out.attrs = {"currency": currency, "source": self.name}
        if start is not None or end is not None:
            out = out.loc[pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None]
        return out

    def intraday(self, symbol: str, since: datetime) -> pd.DataFrame:
        """Trades since ``since`` (5-minute bars, pre- and post-market included): columns ``price, volume``,
        indexed by UTC time. Empty when nothing traded."""
        symbol = normalise_symbol(symbol)
        since = ensure_utc(since, name="since")
        frame = self._worker.run(symbol, lambda: self._fetch_intraday(symbol, since))
        if frame.empty:
            return pd.DataFrame({"price": pd.Series(dtype="float64"), "volume": pd.Series(dtype="float64")})
        index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
        out = pd.DataFrame(
            {
                "price": frame["Close"].astype("float64").to_numpy(),
                "volume": frame["Volume"].astype("float64").to_numpy(),
            },
            index=index.rename("time"),
        )
        return out[out["price"].notna() & (out.index >= pd.Timestamp(since))]

    # --- inside the worker thread ----------------------------------------------------------------------------

    def _fetch_daily(self, symbol: str, start: date | None, end: date | None) -> tuple[pd.DataFrame, str | None]:
        import yfinance as yf

        ticker = yf.Ticker(symbol)
        kwargs: dict[str, Any] = {
            "interval": "1d",
            "auto_adjust": False,
            "back_adjust": False,
            "actions": True,
            "repair": False,
            "timeout": self._timeout,
        }
        if start is None and end is None:
            kwargs["period"] = "max"
        else:
            kwargs["start"] = (start or date(1970, 1, 2)).isoformat()
            if end is not None:
                kwargs["end"] = (end + timedelta(days=1)).isoformat()  # yfinance's end is exclusive
        frame = self._call_yahoo(symbol, lambda: ticker.history(**kwargs))
        if frame.empty:
            return empty_frame(), None
        currency = ticker.get_history_metadata().get("currency")
        return frame, str(currency) if currency else None

    def _fetch_intraday(self, symbol: str, since: datetime) -> pd.DataFrame:
        import yfinance as yf

        ticker = yf.Ticker(symbol)
        start = since - timedelta(minutes=10)
        return self._call_yahoo(
            symbol,
            lambda: ticker.history(
                start=start,
                interval=INTRADAY_INTERVAL,
                prepost=True,
                auto_adjust=False,
                actions=False,
                timeout=self._timeout,
            ),
        )

    @staticmethod
    def _call_yahoo(symbol: str, call: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Translate yfinance's exceptions into ours; a rate limit propagates for the worker to pause on."""
        from yfinance._http import HTTPError
        from yfinance.exceptions import YFException, YFRateLimitError, YFTickerMissingError

        try:
            return call()
        except YFRateLimitError:
            raise
        except YFTickerMissingError as exc:
            reason = getattr(exc, "yahoo_reason", None) or getattr(exc, "rationale", None) or str(exc)
            raise NoPriceData(f"{symbol}: Yahoo has no prices ({reason})", symbol=symbol) from exc
        except HTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 404:
                raise NoPriceData(f"{symbol}: Yahoo does not know this symbol (HTTP 404)", symbol=symbol) from exc
            raise PriceSourceUnavailable(f"{symbol}: Yahoo answered HTTP {status}", symbol=symbol) from exc
        except YFException as exc:
            raise PriceSourceUnavailable(f"{symbol}: yfinance failed: {exc}", symbol=symbol) from exc
        except (OSError, TimeoutError, ValueError, KeyError) as exc:
            raise PriceSourceUnavailable(
                f"{symbol}: fetching from Yahoo failed: {type(exc).__name__}: {exc}", symbol=symbol
            ) from exc
