"""The daemon's HTTP endpoint: /healthz (alive), /readyz (able to do its job) and Prometheus /metrics.

Liveness and readiness are separate on purpose: a Federal Register outage makes the daemon *not ready* (an
orchestrator should not route work or page on restarts) while it stays *alive* and keeps retrying; restarting it
would not bring the feed back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.logs import get_logger
from monitor.metrics import REGISTRY

log = get_logger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


CheckProvider = Callable[[], list[Check]]

SOCKET_TIMEOUT_SECONDS = 3.0  # a client that sends its request slower than this is dropped
WORKERS = 8  # probes answered at once; more connections wait in the listen backlog, never as new threads


class _PooledHTTPServer(HTTPServer):
    """An HTTP server answering on a fixed pool of threads, logging a failed connection as one line.

    ``ThreadingHTTPServer`` starts a thread per connection and lets a slow client hold it forever: 200 slow
    connections were 200 threads. Here every socket has a timeout and at most ``WORKERS`` are served at once.
    """

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], workers: int) -> None:
        # Before binding: a taken port makes the base class call server_close(), which shuts the pool down.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="health-http")
        self._slots = threading.BoundedSemaphore(workers)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()  # the accept loop waits here: the kernel's backlog holds the rest
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception as exc:
            self.handle_error(request, client_address, exc)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any, exc: BaseException | None = None) -> None:
        log.info(
            "http_connection_failed",
            client=str(client_address[0]) if client_address else "",
            error=type(exc).__name__ if exc is not None else "unknown",
        )

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class HealthServer:
    """A small threaded HTTP server; ``port`` is the bound port (useful with address ``127.0.0.1:0``)."""

    def __init__(
        self,
        address: str,
        *,
        liveness: CheckProvider,
        readiness: CheckProvider,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        workers: int = WORKERS,
    ) -> None:
        host, _, port = address.rpartition(":")
        handler = _make_handler(liveness, readiness, socket_timeout)
        self._server = _PooledHTTPServer((host, int(port)), handler, workers)
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        host = self._server.server_address[0]
        log.info("http_server_started", address=f"{host!s}:{self.port}")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _make_handler(
    liveness: CheckProvider, readiness: CheckProvider, socket_timeout: float
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "entity-list-monitor"
        timeout = socket_timeout  # StreamRequestHandler puts it on the socket: reads and writes time out

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._checks(liveness)
            elif path == "/readyz":
                self._checks(readiness)
            else:
                self._send(404, b'{"error": "not found"}\n', "application/json")

        def _checks(self, provider: CheckProvider) -> None:
            try:
                checks = provider()
            except Exception as exc:  # a failing probe must answer, not hang or kill the server thread
                checks = [Check("probe", False, f"{type(exc).__name__}: {exc}")]
            ok = all(check.ok for check in checks)
            body = {"status": "ok" if ok else "fail", "checks": [asdict(check) for check in checks]}
            self._send(200 if ok else 503, (json.dumps(body) + "\n").encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (TimeoutError, OSError) as exc:  # the client left or stalled: one line, no traceback
                log.info("http_client_gone", path=self.path.split("?", 1)[0], error=type(exc).__name__)
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http_request", request=format % args)

    return Handler
