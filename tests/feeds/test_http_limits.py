"""Issue 16 item 6: a download has an overall deadline and a size limit, both enforced while the bytes arrive.

Real local servers (no mocks) send the hostile shapes the attack used: an XML trickled 64 bytes every 0.1 s with no
end, and an endless fast body without Content-Length. Before the fix the trickle ran until the server stopped and
the endless body grew in memory until the download ended (2.1 GB in the attack).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitor.errors import FeedRejected, FeedUnavailable
from monitor.feeds.http import FeedHttp, build_http_client
from tests.feeds.conftest import fast_settings

pytestmark = pytest.mark.integration

Body = Callable[[BaseHTTPRequestHandler, threading.Event], int]  # writes the body, returns bytes sent


def trickle(handler: BaseHTTPRequestHandler, stop: threading.Event) -> int:
    sent = 0
    handler.wfile.write(b"<?xml version='1.0'?><RULE>")
    while not stop.is_set():  # 64 bytes every 0.1 s: every read succeeds well within the read timeout
        handler.wfile.write(b"<P>" + b"x" * 57 + b"</P>")
        handler.wfile.flush()
        sent += 64
        time.sleep(0.1)
    return sent


def endless(handler: BaseHTTPRequestHandler, stop: threading.Event) -> int:
    sent = 0
    block = b"<P>" + b"y" * 65_529 + b"</P>"
    while not stop.is_set() and sent < 512 * 1024 * 1024:
        handler.wfile.write(block)
        sent += len(block)
    return sent


class _Server:
    def __init__(self, body: Body, *, content_length: str | None = None) -> None:
        self.stop = threading.Event()
        self.sent: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                if content_length is not None:
                    self.send_header("Content-Length", content_length)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    outer.sent.append(body(self, outer.stop))
                except OSError:  # the client hung up: what the fix is meant to do
                    outer.sent.append(-1)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/rule.xml"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., _Server]]:
    servers: list[_Server] = []

    def start(body: Body, **kwargs: str) -> _Server:
        servers.append(_Server(body, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _http(**network: float | int) -> FeedHttp:
    settings = fast_settings(network={"timeout_seconds": 2.0, "max_retries": 2, **network})
    return FeedHttp(build_http_client(settings), settings.network, feed="documents", sleep=lambda _: None)


def test_a_trickled_download_ends_at_the_deadline(serve: Callable[..., _Server]) -> None:
    server = serve(trickle)
    http = _http(deadline_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(FeedUnavailable, match="deadline_seconds=1"):
        http.get(server.url)
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, elapsed  # one deadline (plus a read at most), not retried within the same poll
    assert http.requests == 1


@pytest.mark.parametrize("declared", [None, str(10**12)], ids=["no_length", "huge_length"])
def test_an_endless_body_stops_at_the_size_limit(serve: Callable[..., _Server], declared: str | None) -> None:
    server = serve(endless, **({"content_length": declared} if declared else {}))
    http = _http(max_response_bytes=1024 * 1024, deadline_seconds=30.0)
    started = time.monotonic()
    with pytest.raises(FeedRejected, match="max_response_bytes=1,048,576"):
        http.get(server.url)
    assert time.monotonic() - started < 10.0
    assert http.requests == 1  # refused for good, not retried


def test_a_body_within_the_limits_is_returned_whole(serve: Callable[..., _Server]) -> None:
    payload = b"<RULE>" + b"z" * 200_000 + b"</RULE>"

    def whole(handler: BaseHTTPRequestHandler, stop: threading.Event) -> int:
        handler.wfile.write(payload)
        return len(payload)

    server = serve(whole, content_length=str(len(payload)))
    response = _http(max_response_bytes=len(payload), deadline_seconds=10.0).get(server.url)
    assert response.content == payload
    assert response.headers["content-type"] == "application/xml"
