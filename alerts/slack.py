"""The Slack sink: Block Kit cards, follow-ups in the card's thread, the AR/CAR chart, and exactly-once posting.

Slack has no idempotency key, so a post whose answer we never saw (a dropped connection, a 500, a crash before our
commit) may or may not have landed. Every post therefore carries message ``metadata`` with the alert's dedup key,
and before sending again after any such doubt the sink looks the message up (``conversations.history`` for a card,
``conversations.replies`` in a thread) and adopts it if it is there. For the same reason slack-sdk's server-error
and connection retry handlers are restricted to idempotent calls (reads, ``chat.update``, upload URLs); the two
writes, ``chat.postMessage`` and ``files.completeUploadExternal``, are retried here, look-up first. A 429 is never
processed by Slack, so the rate-limit handler retries every call, sleeping Retry-After when it is short; a longer
one is handed to the outbox, which reschedules the delivery instead of blocking the worker.

A post that got no answer within the client timeout may still be in Slack's hands and appear seconds later (Slack is
slow exactly during incidents). Looking it up at once would miss it and post a duplicate, so the time each post is
sent is checkpointed before sending (``post_sent_at``), and while the last unanswered post is younger than the
late-post window (``slack.late_post_window_seconds``, at least twice the client timeout) a look-up that misses
hands the delivery back to the outbox, which looks again on its next attempt, instead of posting again. The same
marker covers a process killed mid-post: whoever resumes the delivery waits out the window the same way.

Needs the bot scopes ``chat:write``, ``files:write`` and ``channels:history`` (``groups:history`` for a private
channel), and the bot in the channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryIntervalCalculator,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from alerts import blocks
from alerts import text as t
from alerts.chart import chart_filename, has_chart, render_chart
from alerts.sink import Checkpoint, Outgoing, Receipt, RootMessage
from monitor import __version__
from monitor.config import Settings
from monitor.errors import ConfigError, DeliveryFailed, DeliveryRejected
from monitor.logs import get_logger
from monitor.outbox import DetectedAlert, FollowUpAlert, ReconcileAlert

log = get_logger(__name__)

EVENT_TYPE = "entity_list_monitor_alert"
_WRITES = ("/chat.postMessage", "/files.completeUploadExternal")
# Error codes after which Slack may or may not have acted: worth a look-up and another try.
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
LOOKUP_MARGIN_SECONDS = 300.0  # clock skew between us and Slack when bounding a history look-up
LOOKUP_PAGES = 10


def _is_write(request: HttpRequest) -> bool:
    return request.url.split("?", 1)[0].endswith(_WRITES)


class _OnlyIdempotent:
    """Mixin for slack-sdk retry handlers: retry only calls that are safe to repeat.

    A 500 or a dropped connection on ``chat.postMessage`` may mean Slack already posted; those writes are looked up
    by the sink before any retry instead of being repeated blindly.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        can: bool = super()._can_retry(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        )
        return not _is_write(request) and can


class IdempotentServerErrorRetryHandler(_OnlyIdempotent, ServerErrorRetryHandler):
    """Retries 500/503 only for calls that are safe to repeat."""


class IdempotentConnectionErrorRetryHandler(_OnlyIdempotent, ConnectionErrorRetryHandler):
    """Retries dropped connections only for calls that are safe to repeat."""


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler (sleeps Retry-After), but only for waits short enough to sleep in the worker."""

    def __init__(self, max_retry_count: int, max_wait_seconds: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_seconds = max_wait_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after({k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()})
        return wait is None or wait <= self.max_wait_seconds


def retry_handlers(*, max_wait_seconds: float, interval: RetryIntervalCalculator | None = None) -> list[RetryHandler]:
    extra: dict[str, Any] = {} if interval is None else {"interval_calculator": interval}
    return [
        BoundedRateLimitRetryHandler(max_retry_count=3, max_wait_seconds=max_wait_seconds),
        IdempotentServerErrorRetryHandler(max_retry_count=2, **extra),
        IdempotentConnectionErrorRetryHandler(max_retry_count=3, **extra),
    ]


def make_client(settings: Settings, *, interval: RetryIntervalCalculator | None = None) -> WebClient:
    """The Web API client; the token goes in the Authorization header only, never in a URL or a log line."""
    token = settings.slack.bot_token
    if token is None or not token.get_secret_value():
        raise ConfigError("no Slack bot token; set MONITOR_SLACK__BOT_TOKEN", setting="slack.bot_token")
    return WebClient(
        token=token.get_secret_value(),
        base_url=settings.slack.base_url,
        timeout=max(1, round(settings.network.timeout_seconds)),
        retry_handlers=retry_handlers(
            max_wait_seconds=settings.slack.max_inline_retry_after_seconds, interval=interval
        ),
        user_agent_prefix=f"entity-list-monitor/{__version__}",
    )


def _retry_after(headers: Any) -> float | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None


def _unanswered(exc: Exception) -> bool:
    """True when a request timed out: Slack may still be processing it, and its effect may appear later."""
    reason = exc.reason if isinstance(exc, URLError) else exc
    return isinstance(reason, TimeoutError)


def _error_code(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{exc.response.status_code}")


def _failure(exc: Exception, call: str, key: str) -> DeliveryFailed | DeliveryRejected:
    """Our error for a failed Slack call: transient (retry later) or rejected (a human must act)."""
    if isinstance(exc, SlackApiError):
        code, status = _error_code(exc), exc.response.status_code
        if status == 429 or code == "ratelimited":
            wait = _retry_after(exc.response.headers)
            return DeliveryFailed(
                f"Slack rate-limited {call} for {key} (retry after {wait}s)", sink="slack", retry_after=wait
            )
        if status >= 500 or code in _TRANSIENT or code.startswith("Received a response in a non-JSON format"):
            return DeliveryFailed(f"Slack {call} failed for {key}: {code} (HTTP {status})", sink="slack")
        return DeliveryRejected(f"Slack refused {call} for {key}: {code}", sink="slack")
    if isinstance(exc, SlackRequestError):
        return DeliveryFailed(f"Slack {call} failed for {key}: {exc}", sink="slack")
    return DeliveryFailed(f"Slack {call} failed for {key}: {type(exc).__name__}: {exc}", sink="slack")


class SlackSink:
    name = "slack"
    threads = True

    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        charts: bool = True,
        broadcast_threshold: float | None = 0.05,
        min_post_interval: float = 1.0,
        post_attempts: int = 3,
        retry_pause: float = 1.0,
        late_post_window: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.channel = channel
        self.charts = charts
        self.broadcast_threshold = broadcast_threshold
        self.min_post_interval = min_post_interval
        self.post_attempts = post_attempts
        self.retry_pause = retry_pause
        self.late_post_window = late_post_window
        self._sleep = sleep
        self._monotonic = monotonic
        self._wall = wall
        self._last_post = float("-inf")

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> SlackSink:
        if not settings.slack.channel:
            raise ConfigError("a Slack bot token is set but no channel ID", setting="slack.channel")
        interval = options.pop("interval", None)
        options.setdefault("charts", settings.alerts.charts)
        options.setdefault("broadcast_threshold", settings.alerts.broadcast_car_threshold)
        options.setdefault("min_post_interval", settings.slack.min_post_interval_seconds)
        options.setdefault(
            "late_post_window",
            max(settings.slack.late_post_window_seconds, 2 * max(1, round(settings.network.timeout_seconds))),
        )
        return cls(make_client(settings, interval=interval), settings.slack.channel, **options)

    # --- delivery ------------------------------------------------------------------------------------------------

    def deliver(self, item: Outgoing, checkpoint: Checkpoint) -> Receipt:
        alert = item.alert
        root = item.root if item.root is not None and item.root.external_id else None
        channel = (root.channel if root else None) or self.channel
        thread_ts = root.external_id if root else None
        progress = dict(item.progress)
        if "ts" not in progress:
            sent_before = item.maybe_delivered or "post_sent_at" in progress
            ts = self._find_message(channel, item, thread_ts) if sent_before else None
            if ts is None:
                self._settle_unanswered(progress, item)
                broadcast = (
                    thread_ts is not None
                    and isinstance(alert, FollowUpAlert)
                    and t.follow_up_has_big_move(alert, self.broadcast_threshold)
                )
                ts = self._post(channel, item, thread_ts, broadcast=broadcast, progress=progress, checkpoint=checkpoint)
            else:
                log.info("slack_message_found", dedup_key=item.dedup_key, message_ts=ts, delivery_id=item.delivery_id)
            progress.pop("post_sent_at", None)
            progress.update(channel=channel, ts=ts, thread_ts=thread_ts)
            checkpoint(progress)
        if isinstance(alert, FollowUpAlert):
            anchor = thread_ts or str(progress["ts"])
            if self.charts and has_chart(alert) and "file_id" not in progress:
                progress["file_id"] = self._chart(channel, anchor, item, alert)
                checkpoint(progress)
            if root is not None and root.alert is not None and not progress.get("root_updated"):
                progress["root_updated"] = self._update_root(root, root.alert, alert, item)
        if isinstance(alert, ReconcileAlert) and root is not None and not progress.get("root_updated"):
            # The card is replaced with the published facts in place (chat.update), never posted again.
            progress["root_updated"] = self._update_root(root, alert.card, alert, item)
        return Receipt(external_id=str(progress["ts"]), channel=channel, thread_ref=thread_ts, detail=progress)

    def _metadata(self, item: Outgoing) -> dict[str, Any]:
        payload = {"dedup_key": item.dedup_key, "delivery_id": item.delivery_id, "stage": item.alert.stage.value}
        return {"event_type": EVENT_TYPE, "event_payload": payload}

    def _pace(self) -> None:
        wait = self._last_post + self.min_post_interval - self._monotonic()
        if wait > 0:
            self._sleep(wait)
        self._last_post = self._monotonic()

    def _settle_unanswered(self, progress: MutableMapping[str, Any], item: Outgoing) -> None:
        """Raise DeliveryFailed (look again later) while an unanswered earlier post may still appear in Slack."""
        sent_at = progress.get("post_sent_at")
        if not isinstance(sent_at, int | float):
            return
        age = self._wall() - float(sent_at)
        if 0 <= age < self.late_post_window:
            log.warning(
                "slack_post_settling",
                dedup_key=item.dedup_key,
                delivery_id=item.delivery_id,
                sent_seconds_ago=round(age, 1),
                window_seconds=self.late_post_window,
            )
            raise DeliveryFailed(
                f"Slack has not shown the post for {item.dedup_key} sent {age:.0f}s ago without an answer; it may "
                f"still appear, so it is looked up again before any new post (for up to {self.late_post_window:g}s)",
                sink="slack",
            )

    def _post(
        self,
        channel: str,
        item: Outgoing,
        thread_ts: str | None,
        *,
        broadcast: bool,
        progress: MutableMapping[str, Any],
        checkpoint: Checkpoint,
    ) -> str:
        message = blocks.render(item.alert)
        failure: DeliveryFailed | DeliveryRejected | None = None
        for attempt in range(1, self.post_attempts + 1):
            self._pace()
            progress["post_sent_at"] = self._wall()
            checkpoint(progress)  # before sending: whoever resumes after a timeout or a crash knows a post may land
            try:
                response = self.client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread_ts,
                    reply_broadcast=True if broadcast else None,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=self._metadata(item),
                )
                ts = str(response["ts"])
                log.info("slack_posted", dedup_key=item.dedup_key, message_ts=ts, thread_ts=thread_ts, attempt=attempt)
                return ts
            except (SlackClientError, OSError) as exc:
                failure = _failure(exc, "chat.postMessage", item.dedup_key)
                if _unanswered(exc):
                    # Slack may still be working on it: a look-up now would miss a message that lands in a moment.
                    log.warning("slack_post_unanswered", dedup_key=item.dedup_key, attempt=attempt, error=str(failure))
                    raise failure from exc
                # Answered (or cut off): whatever Slack did with this post is visible now, nothing lands later.
                progress.pop("post_sent_at", None)
                checkpoint(progress)
                if isinstance(failure, DeliveryRejected) or failure.retry_after is not None:
                    raise failure from exc
            # The answer was lost or was a server error: Slack may have posted it. Look before posting again.
            log.warning("slack_post_uncertain", dedup_key=item.dedup_key, attempt=attempt, error=str(failure))
            found = self._find_message(channel, item, thread_ts)
            if found is not None:
                log.info(
                    "slack_message_found", dedup_key=item.dedup_key, message_ts=found, delivery_id=item.delivery_id
                )
                return found
            if attempt < self.post_attempts:
                self._sleep(self.retry_pause * 2 ** (attempt - 1))
        assert failure is not None
        raise failure

    def _pages(self, method: str, **params: Any) -> Iterator[dict[str, Any]]:
        call = getattr(self.client, method.replace(".", "_"))
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            response = call(include_all_metadata=True, limit=200, cursor=cursor, **params)
            yield from response.get("messages") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return

    def _find_message(self, channel: str, item: Outgoing, thread_ts: str | None) -> str | None:
        """The ts of a message already posted for this alert, if any."""
        try:
            if thread_ts:
                messages = self._pages("conversations.replies", channel=channel, ts=thread_ts)
            else:
                oldest = f"{item.created_at.timestamp() - LOOKUP_MARGIN_SECONDS:.6f}"
                messages = self._pages("conversations.history", channel=channel, oldest=oldest)
            for message in messages:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == EVENT_TYPE and payload.get("dedup_key") == item.dedup_key:
                    return str(message["ts"])
        except (SlackClientError, OSError) as exc:
            raise _failure(exc, "the look-up for an earlier copy", item.dedup_key) from exc
        return None

    def _find_file(self, channel: str, anchor: str, filename: str, key: str) -> str | None:
        try:
            for message in self._pages("conversations.replies", channel=channel, ts=anchor):
                for shared in message.get("files") or []:
                    if filename in (shared.get("name"), shared.get("title")):
                        return str(shared["id"])
        except (SlackClientError, OSError) as exc:
            raise _failure(exc, "the look-up for an earlier chart", key) from exc
        return None

    def _chart(self, channel: str, anchor: str, item: Outgoing, alert: FollowUpAlert) -> str:
        filename = chart_filename(item.dedup_key)
        if item.maybe_delivered:
            found = self._find_file(channel, anchor, filename, item.dedup_key)
            if found is not None:
                return found
        try:
            png = render_chart(alert)
        except Exception as exc:  # a chart must never cost the alert itself
            log.warning("chart_failed", dedup_key=item.dedup_key, error=f"{type(exc).__name__}: {exc}")
            return "none"
        self._pace()
        try:
            response = self.client.files_upload_v2(
                channel=channel,
                thread_ts=anchor,
                file=png,
                filename=filename,
                title=f"AR/CAR, {t.STAGE_LABELS[alert.stage]}, {alert.document_number}",
                alt_txt=t.clip(f"AR and CAR path, {t.STAGE_LABELS[alert.stage]}, {alert.document_number}", 1000),
            )
        except (SlackClientError, OSError) as exc:
            raise _failure(exc, "files_upload_v2", item.dedup_key) from exc
        file_id = str((response.get("file") or {}).get("id", ""))
        log.info("slack_chart_uploaded", dedup_key=item.dedup_key, file_id=file_id, bytes=len(png))
        return file_id

    def _update_root(
        self, root: RootMessage, card: DetectedAlert, alert: FollowUpAlert | ReconcileAlert, item: Outgoing
    ) -> bool:
        """Show the latest stage on the card itself, so the channel view is current without opening the thread."""
        message = blocks.render(card, status=f"Latest: {t.title(alert)} (see the thread)")
        try:
            self.client.chat_update(
                channel=root.channel or self.channel,
                ts=str(root.external_id),
                text=message.text,
                blocks=message.blocks,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"dedup_key": root.dedup_key}},
            )
        except (SlackClientError, OSError) as exc:
            failure = _failure(exc, "chat.update", item.dedup_key)
            if isinstance(failure, DeliveryFailed):
                raise failure from exc
            log.warning("slack_root_not_updated", dedup_key=item.dedup_key, error=str(failure))
            return False
        return True

    # --- `monitor alerts test` -----------------------------------------------------------------------------------

    def send_test(self, text: str) -> str:
        try:
            auth = self.client.auth_test()
            self._pace()
            response = self.client.chat_postMessage(
                channel=self.channel, text=text, blocks=[blocks.section(blocks.esc(text))]
            )
        except (SlackClientError, OSError) as exc:
            raise _failure(exc, "the test message", "monitor alerts test") from exc
        return (
            f"posted ts {response['ts']} in {response['channel']} "
            f"as {auth.get('user')} ({auth.get('team')}, bot {auth.get('bot_id')})"
        )
