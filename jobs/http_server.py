"""The daemon's HTTP endpoint: /healthz (alive), /readyz (able to do its job) and Prometheus /metrics.

Liveness and readiness are separate on purpose: a Federal Register outage makes the daemon *not ready* (an
orchestrator should not route work or page on restarts) while it stays *alive* and keeps retrying; restarting it
would not bring the feed back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class HealthServer:
    """A small threaded HTTP server; ``port`` is the bound port (useful with address ``127.0.0.1:0``)."""

    def __init__(self, address: str, *, liveness: CheckProvider, readiness: CheckProvider) -> None:
        host, _, port = address.rpartition(":")
        handler = _make_handler(liveness, readiness)
        self._server = ThreadingHTTPServer((host, int(port)), handler)
        self._server.daemon_threads = True
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


def _make_handler(liveness: CheckProvider, readiness: CheckProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "entity-list-monitor"

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
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http_request", request=format % args)

    return Handler
