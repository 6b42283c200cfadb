"""The webhook sink against a local HTTP server: the JSON it posts, its signature, and how answers are read."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from alerts.sink import Outgoing, RootMessage
from alerts.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSink,
    sign,
    verify_signature,
)
from monitor.config import Settings
from monitor.errors import ConfigError, DeliveryFailed, DeliveryRejected
from monitor.models import AlertStage
from monitor.outbox import parse_alert
from tests.fakes.alert_samples import detected, follow_up

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

SECRET = "whsec-test-4f1c9e"


class Receiver:
    """A local endpoint that records what it receives and answers with scripted statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k: v for k, v in self.headers.items()}, body))
                status, headers = receiver.answers.pop(0) if receiver.answers else (204, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/monitor?key=url-credential-77"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def sink_for(url: str, secret: str | None = SECRET) -> WebhookSink:
    settings = Settings(webhook={"url": url, "secret": SecretStr(secret) if secret else None})
    return WebhookSink.from_settings(settings)


def item(alert: Any, root: RootMessage | None = None) -> Outgoing:
    return Outgoing(9, 4, alert.dedup_key, "webhook", alert, 1, False, datetime.now(UTC), root=root)


def test_posts_the_typed_alert_as_signed_json(receiver: Receiver) -> None:
    receipt = sink_for(receiver.url).deliver(item(detected(4)), lambda done: None)
    assert receipt.detail == {"status": 204}
    [(headers, body)] = receiver.received
    document = json.loads(body)
    assert document["version"] == 1
    assert document["dedup_key"] == "event:4:g:all:detected"
    assert document["stage"] == "detected"
    assert document["delivery_id"] == 9
    assert document["reply_to"] is None
    assert document["text"].startswith("Addition of Certain Entities to the Entity List: 8 listed securities hit. ")
    assert parse_alert(document["alert"]) == detected(4)  # receivers get the full typed alert
    assert headers["Content-Type"].startswith("application/json")
    assert headers[DELIVERY_HEADER] == "event:4:g:all:detected"
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature("another-secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature(SECRET, headers[TIMESTAMP_HEADER], body + b" ", headers[SIGNATURE_HEADER])


def test_follow_ups_name_their_root_and_unsigned_posts_have_no_signature(receiver: Receiver) -> None:
    root = RootMessage("event:4:g:all:detected", detected(4), None, None)
    sink_for(receiver.url, secret=None).deliver(item(follow_up(4, AlertStage.DAY5), root), lambda done: None)
    [(headers, body)] = receiver.received
    assert json.loads(body)["reply_to"] == "event:4:g:all:detected"
    assert SIGNATURE_HEADER not in headers


def test_signature_matches_a_known_vector() -> None:
    # HMAC-SHA256("key", "1570479300." + body), computed independently
    expected = "sha256=c52ae397a0af886b96e9546e44084bd1e4936a4ed1c3d9ec2e018539a9b9995e"
    assert sign("key", "1570479300", b'{"a":1}') == expected


@pytest.mark.parametrize(("status", "retry_after"), [(500, None), (503, "30"), (429, "120"), (408, None)])
def test_server_trouble_is_transient_and_honours_retry_after(
    receiver: Receiver, status: int, retry_after: str | None
) -> None:
    receiver.answers.append((status, {"Retry-After": retry_after} if retry_after else {}))
    with pytest.raises(DeliveryFailed, match=f"HTTP {status}") as raised:
        sink_for(receiver.url).deliver(item(detected(4)), lambda done: None)
    assert raised.value.retry_after == (float(retry_after) if retry_after else None)


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_client_errors_are_refusals(receiver: Receiver, status: int) -> None:
    receiver.answers.append((status, {}))
    with pytest.raises(DeliveryRejected, match=f"HTTP {status}"):
        sink_for(receiver.url).deliver(item(detected(4)), lambda done: None)


def test_an_unreachable_endpoint_is_transient_and_its_url_credential_never_quoted() -> None:
    url = "http://127.0.0.1:9/hooks?key=url-credential-77"
    with pytest.raises(DeliveryFailed) as raised:
        sink_for(url).deliver(item(detected(4)), lambda done: None)
    message = str(raised.value)
    assert "http://127.0.0.1:9" in message
    assert "url-credential-77" not in message + repr(raised.value)
    assert raised.value.__cause__ is None


def test_timeouts_are_transient() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    settings = Settings(webhook={"url": "https://hooks.example.com/x"})
    sink = WebhookSink.from_settings(settings, transport=httpx.MockTransport(slow))
    with pytest.raises(DeliveryFailed, match="ReadTimeout"):
        sink.deliver(item(detected(4)), lambda done: None)


def test_send_test_and_configuration_errors(receiver: Receiver) -> None:
    assert sink_for(receiver.url).send_test("hello").endswith("answered HTTP 204")
    assert json.loads(receiver.received[0][1])["stage"] == "test"
    with pytest.raises(ConfigError, match=r"webhook\.url"):
        WebhookSink.from_settings(Settings())
    with pytest.raises(ConfigError, match="http"):
        WebhookSink("ftp://example.com/x", httpx.Client())
