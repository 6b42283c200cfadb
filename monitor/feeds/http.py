"""The one way the feeds talk HTTP: an injected ``httpx.Client`` wrapped with retries, backoff and error mapping.

Timeouts, transport errors, 429 and 5xx are retried with exponential backoff and jitter (tenacity); a 429's
``Retry-After`` is honoured when it fits under the backoff cap, otherwise the request gives up at once so the
scheduler, not a blocked thread, does the waiting. Anything else that is not a success is a
``FeedRejected``: the request itself is wrong (unknown field, missing document) and retrying cannot help.
The sleep function is injectable so tests never really wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base

from monitor.clock import Clock, SystemClock
from monitor.config import NetworkSettings, Settings
from monitor.errors import DocumentNotFound, FeedRejected, FeedUnavailable
from monitor.logs import get_logger

log = get_logger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 508, 509, 520, 521, 522, 523, 524})
_BOT_WALL_HOST_PREFIX = "unblock."  # federalregister.gov answers HTML scrapers with a CAPTCHA redirect


class _Retryable(Exception):
    """Internal: one failed attempt worth retrying; carries the server's requested delay, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def build_http_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The client every feed shares: User-Agent naming the product, explicit timeouts, redirects followed."""
    network = settings.network
    return httpx.Client(
        transport=transport,
        headers={"User-Agent": network.user_agent, "Accept": "application/json, application/xml;q=0.9, */*;q=0.5"},
        timeout=httpx.Timeout(network.timeout_seconds),
        follow_redirects=True,
    )


class _BackoffWait(wait_base):
    """Equal-jitter exponential backoff, or exactly the server's Retry-After when it sent one."""

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return float(error.retry_after)
        ceiling = min(self.cap, self.base * 2.0 ** (retry_state.attempt_number - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


class FeedHttp:
    """GET with retries for one feed; counts requests so the benchmark can prove a quiet poll is one request."""

    def __init__(
        self,
        client: httpx.Client,
        network: NetworkSettings,
        *,
        feed: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.network = network
        self.feed = feed
        self.sleep = sleep
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.requests = 0  # HTTP requests actually sent, retries included

    def get(
        self,
        url: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset({200}),
    ) -> httpx.Response:
        """One logical GET; returns the response whose status is in ``ok_statuses`` or raises our error."""
        retrying = Retrying(
            stop=stop_after_attempt(self.network.max_retries + 1),
            wait=_BackoffWait(self.network.backoff_base_seconds, self.network.backoff_max_seconds, self.rng),
            retry=retry_if_exception_type(_Retryable),
            sleep=self.sleep,
            before_sleep=self._log_retry(url),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(url, params, headers, ok_statuses)
        except _Retryable as exc:
            raise FeedUnavailable(
                f"{self.feed}: {_display(url)} failed after {self.network.max_retries + 1} attempts: {exc.reason}",
                url=_display(url),
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _attempt(
        self,
        url: str,
        params: Sequence[tuple[str, str]] | None,
        headers: Mapping[str, str] | None,
        ok_statuses: frozenset[int],
    ) -> httpx.Response:
        self.requests += 1
        try:
            response = self._download(url, params, headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:  # our URL is wrong: retrying cannot help
            raise FeedRejected(f"{self.feed}: cannot request {url}: {exc}", url=url, status=0) from exc
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from exc
        except httpx.HTTPError as exc:  # invalid URL and similar: our mistake, not the server's
            raise FeedRejected(
                f"{self.feed}: cannot request {_display(url)}: {exc}", url=_display(url), status=0
            ) from exc
        if response.url.host.startswith(_BOT_WALL_HOST_PREFIX):
            raise FeedUnavailable(
                f"{self.feed}: {_display(url)} was redirected to the Federal Register bot wall ({response.url.host}); "
                "only /api/v1 and full_text URLs are reachable without a browser",
                url=_display(url),
            )
        if response.status_code in ok_statuses:
            return response
        status = response.status_code
        if status in RETRY_STATUSES or status >= 500:
            retry_after = self._retry_after(response) if status in (429, 503) else None
            if retry_after is not None and retry_after > self.network.backoff_max_seconds:
                raise FeedUnavailable(
                    f"{self.feed}: {_display(url)} rate limited (HTTP {status}); the server asks to wait "
                    f"{retry_after:.0f}s, more than network.backoff_max_seconds={self.network.backoff_max_seconds:g}",
                    url=_display(url),
                )
            raise _Retryable(f"HTTP {status}", retry_after)
        detail = _error_detail(response)
        kind = DocumentNotFound if status == 404 else FeedRejected
        raise kind(f"{self.feed}: {_display(url)} refused with HTTP {status}{detail}", url=_display(url), status=status)

    def _download(
        self, url: str, params: Sequence[tuple[str, str]] | None, headers: Mapping[str, str] | None
    ) -> httpx.Response:
        """Stream one response under an overall deadline and a size limit, both checked as the bytes arrive.

        httpx's timeouts bound each read, not the whole download: a server sending 64 bytes every half second never
        trips them. The deadline is checked per chunk (a stalled read still ends at the read timeout), and the size
        limit before a byte more is kept, so neither a trickle nor an endless body holds the poll or the memory.
        """
        network = self.network
        deadline = time.monotonic() + network.deadline_seconds
        with self.client.stream("GET", url, params=list(params or ()), headers=headers) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > network.max_response_bytes:
                raise self._too_large(url, f"announces {int(declared):,} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > network.max_response_bytes:
                    raise self._too_large(url, f"sent more than {network.max_response_bytes:,} bytes")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FeedUnavailable(
                        f"{self.feed}: {_display(url)} took longer than network.deadline_seconds="
                        f"{network.deadline_seconds:g} ({size:,} bytes received); retried on the next poll",
                        url=_display(url),
                    )
        kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length")}
        return httpx.Response(response.status_code, headers=kept, content=b"".join(chunks), request=response.request)

    def _too_large(self, url: str, what: str) -> FeedRejected:
        return FeedRejected(
            f"{self.feed}: {_display(url)} {what}, over network.max_response_bytes={self.network.max_response_bytes:,}",
            url=_display(url),
            status=0,
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - self.clock.now()).total_seconds())

    def _log_retry(self, url: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            delay = state.next_action.sleep if state.next_action is not None else 0.0
            log.warning(
                "feed_request_retry",
                feed=self.feed,
                url=_display(url),
                attempt=state.attempt_number,
                reason=getattr(error, "reason", str(error)),
                sleep_seconds=round(delay, 3),
            )

        return before_sleep


def _display(url: str | httpx.URL) -> str:
    """The URL without its query string: short, and free of cache-busters (feeds carry no secrets in URLs)."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None))


def _error_detail(response: httpx.Response) -> str:
    """The API's own one-line reason ({"message": ...} or {"errors": {...}}), when it sent JSON."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    if isinstance(payload, dict):
        if isinstance(payload.get("message"), str):
            return f": {payload['message']}"
        if isinstance(payload.get("errors"), dict):
            parts = [f"{key} {value}" for key, value in payload["errors"].items()]
            return ": " + "; ".join(parts)[:300]
    return ""


def cache_buster() -> str:
    """A fresh query value per request: the API is served from a shared cache that ignores no-store."""
    return str(time.time_ns())
