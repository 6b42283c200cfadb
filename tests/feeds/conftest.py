"""Shared helpers for the feed tests: a real local HTTP server, the real feed files, settings and a poller."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from monitor.config import Settings
from tests.conftest import FIXTURES, SHARED_DATA

FEEDS = SHARED_DATA / "feeds"
RULE_2019 = FEEDS / "entity_list_2019-22210"
FEED_FIXTURES = FIXTURES / "feeds"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def fast_settings(**overrides: Any) -> Settings:
    """Small timeouts and backoff so retry tests are quick; the sleep itself is injected anyway."""
    network = {"timeout_seconds": 2.0, "max_retries": 3, "backoff_base_seconds": 0.5, "backoff_max_seconds": 8.0}
    network.update(overrides.pop("network", {}))
    return Settings(
        network=network,
        federal_register_url=overrides.pop("federal_register_url", "https://fr.test/api/v1"),
        csl_url=overrides.pop("csl_url", "https://csl.test/consolidated.json"),
        **overrides,
    )


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]


Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[Recorded], Reply]


@dataclass
class LocalServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)


@pytest.fixture
def local_server() -> Iterator[Callable[[Handler], LocalServer]]:
    """``start(handler)`` runs a real HTTP server on 127.0.0.1 (port 0) answering with ``handler``."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Handler) -> LocalServer:
        state = LocalServer(url="")

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                recorded = Recorded("GET", parts.path, parse_qsl(parts.query), dict(self.headers.items()))
                state.requests.append(recorded)
                status, headers, body = handler(recorded)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left: that is what some tests provoke

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode()


class Sleeps:
    """An injectable sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
