"""The webhook sink: each alert as one JSON POST, optionally signed with HMAC-SHA256.

The signature covers the timestamp and the exact body bytes (``sha256=HEX(HMAC(secret, "<timestamp>.<body>"))``)
so a receiver can reject forged and replayed requests; ``verify_signature`` is the reference check. A webhook
cannot be asked whether an earlier attempt arrived, so after a crash the same alert may be posted again:
``X-Monitor-Delivery`` carries the alert's dedup key for the receiver to drop repeats (at-least-once delivery).
The URL may itself carry a credential (many webhook URLs do), so only its scheme and host are ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from alerts import text as t
from alerts.sink import Checkpoint, Outgoing, Receipt
from monitor import __version__
from monitor.config import Settings
from monitor.errors import ConfigError, DeliveryFailed, DeliveryRejected
from monitor.logs import get_logger

log = get_logger(__name__)

SIGNATURE_HEADER = "X-Monitor-Signature"
TIMESTAMP_HEADER = "X-Monitor-Timestamp"
DELIVERY_HEADER = "X-Monitor-Delivery"
PAYLOAD_VERSION = 1
_RETRYABLE = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(item: Outgoing) -> dict[str, Any]:
    """The JSON document a receiver gets: the typed alert as stored, plus a plain-text rendering."""
    return {
        "version": PAYLOAD_VERSION,
        "dedup_key": item.dedup_key,
        "delivery_id": item.delivery_id,
        "stage": item.alert.stage.value,
        "reply_to": item.root.dedup_key if item.root is not None else None,
        "text": t.fallback_text(item.alert),
        "alert": item.alert.model_dump(mode="json"),
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


class WebhookSink:
    name = "webhook"
    threads = False

    def __init__(
        self,
        url: str,
        client: httpx.Client,
        *,
        secret: SecretStr | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"expected an http(s) URL, got one starting {url[:8]!r}", setting="webhook.url")
        self.url = url
        self.client = client
        self.secret = secret
        self.origin = _origin(url)
        self._wall_clock = wall_clock

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> WebhookSink:
        if not settings.webhook.url:
            raise ConfigError("no webhook URL", setting="webhook.url")
        client = httpx.Client(
            timeout=settings.network.timeout_seconds,
            headers={"User-Agent": settings.network.user_agent},
            follow_redirects=False,
            transport=transport,
        )
        return cls(settings.webhook.url, client, secret=settings.webhook.secret)

    def deliver(self, item: Outgoing, checkpoint: Checkpoint) -> Receipt:
        body = json.dumps(payload(item), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        status = self._post(body, item.dedup_key)
        log.info("webhook_posted", dedup_key=item.dedup_key, target=self.origin, status=status)
        return Receipt(detail={"status": status})

    def _post(self, body: bytes, key: str) -> int:
        timestamp = str(int(self._wall_clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: key,
            TIMESTAMP_HEADER: timestamp,
            "User-Agent": f"entity-list-monitor/{__version__}",
        }
        if self.secret is not None and self.secret.get_secret_value():
            headers[SIGNATURE_HEADER] = sign(self.secret.get_secret_value(), timestamp, body)
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            # Not chained: httpx errors can quote the URL, and the URL may hold a credential.
            raise DeliveryFailed(
                f"webhook {self.origin} unreachable for {key}: {type(exc).__name__}", sink="webhook"
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        if status in _RETRYABLE or status >= 500:
            retry_after = _seconds(response.headers.get("Retry-After"))
            raise DeliveryFailed(
                f"webhook {self.origin} answered HTTP {status} for {key}", sink="webhook", retry_after=retry_after
            )
        raise DeliveryRejected(f"webhook {self.origin} refused {key}: HTTP {status}", sink="webhook")

    def send_test(self, text: str) -> str:
        body = json.dumps({"version": PAYLOAD_VERSION, "stage": "test", "text": text}).encode("utf-8")
        status = self._post(body, "monitor-alerts-test")
        return f"{self.origin} answered HTTP {status}"


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
