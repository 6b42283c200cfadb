"""A real local HTTP server for the Federal Register API and the CSL, answering from a directory, with outages.

Requests are routed exactly as ``monitor.feeds.saved.SavedResponsesTransport`` routes them (same file layout, same
404s, an absent public-inspection issue answers as an empty one), so a test stages a rule by writing files:
``publish("public_inspection_current.json", ...)`` makes a filing appear on public inspection. During an
``outage()`` the server answers every request with, in turn, a hang longer than the client's timeout, a 500 page
and a 200 with garbage instead of JSON.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from monitor.feeds.saved import SavedResponsesTransport

OUTAGE_KINDS = ("timeout", "500", "garbage")


@dataclass(frozen=True)
class Served:
    path: str
    status: int  # 0: the connection was held past the client's timeout
    fault: str | None
    at: float = 0.0  # time.monotonic() once the answer was decided (for a file: after it was read)


class FeedServer:
    def __init__(self, directory: Path, *, hang_seconds: float = 3.0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.hang_seconds = hang_seconds
        self.transport = SavedResponsesTransport(directory)
        self.served: list[Served] = []
        self._faults: Iterator[str] | None = None
        self._exact: dict[str, tuple[bytes, str]] = {}  # path -> (body, content type), outside the saved layout
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> FeedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def federal_register_url(self) -> str:
        return f"{self.base}/api/v1"

    @property
    def csl_url(self) -> str:
        return f"{self.base}/consolidated.csv"

    # --- staging -----------------------------------------------------------------------------------------------

    def publish(self, name: str, content: bytes | str) -> None:
        """Write a response file atomically, so a poll never reads half of it."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.directory / name)

    def publish_at(self, path: str, content: bytes, content_type: str) -> None:
        """Serve ``content`` at exactly ``path`` (e.g. the PI PDF at ``/2019-22210.pdf``, which the saved-responses
        layout has no file for)."""
        with self._lock:
            self._exact[path] = (content, content_type)

    def outage(self, kinds: tuple[str, ...] = OUTAGE_KINDS) -> None:
        with self._lock:
            self._faults = itertools.cycle(kinds)

    def recover(self) -> None:
        with self._lock:
            self._faults = None

    def faults_served(self) -> set[str]:
        with self._lock:
            return {s.fault for s in self.served if s.fault}

    def count(self, path_suffix: str) -> int:
        with self._lock:
            return sum(1 for s in self.served if s.path.endswith(path_suffix))

    def first_served(self, path_suffix: str, *, after: float) -> float | None:
        """When ``path_suffix`` was first answered from what was on disk after ``after`` (``time.monotonic()``):
        call with the moment a ``publish`` returned to learn when a client first saw the new content."""
        with self._lock:
            return next((s.at for s in self.served if s.path.endswith(path_suffix) and s.at > after), None)

    # --- answering ---------------------------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            fault = next(self._faults) if self._faults is not None else None
        try:
            if fault == "timeout":
                self._record(handler.path, 0, fault)
                time.sleep(self.hang_seconds)
                self._send(handler, 504, b"too late", "text/plain")
            elif fault == "500":
                self._record(handler.path, 500, fault)
                self._send(handler, 500, b"<html><body>Internal Server Error</body></html>", "text/html")
            elif fault == "garbage":
                self._record(handler.path, 200, fault)
                self._send(handler, 200, b'{"count": 1, "results": [{"document_numb', "application/json")
            elif (exact := self._exact_answer(handler.path)) is not None:
                self._record(handler.path, 200, None)
                self._send(handler, 200, *exact)
            else:
                response = self.transport.handle_request(httpx.Request("GET", f"http://feeds.test{handler.path}"))
                self._record(handler.path, response.status_code, None)
                content_type = response.headers.get("Content-Type", "application/json")
                self._send(handler, response.status_code, response.read(), content_type)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout fault): what that fault is for

    def _exact_answer(self, path: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._exact.get(path.split("?", 1)[0])

    def _record(self, path: str, status: int, fault: str | None) -> None:
        with self._lock:
            self.served.append(Served(path.split("?", 1)[0], status, fault, time.monotonic()))

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
