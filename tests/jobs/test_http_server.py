"""Health, readiness and metrics endpoints over a real local socket."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from jobs.http_server import Check, HealthServer
from monitor import metrics

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


@pytest.fixture
def state() -> dict[str, list[Check]]:
    return {"live": [Check("scheduler", True)], "ready": [Check("database", True), Check("feed:pi", True)]}


@pytest.fixture
def server(state: dict[str, list[Check]]) -> Iterator[HealthServer]:
    server = HealthServer("127.0.0.1:0", liveness=lambda: state["live"], readiness=lambda: state["ready"]).start()
    yield server
    server.stop()


def test_healthz_and_readyz(server: HealthServer, state: dict[str, list[Check]]) -> None:
    base = f"http://127.0.0.1:{server.port}"
    assert httpx.get(f"{base}/healthz").status_code == 200
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    state["ready"] = [Check("database", True), Check("feed:fr", False, "last success 14 min ago; HTTP 500")]
    not_ready = httpx.get(f"{base}/readyz")
    assert not_ready.status_code == 503
    failing = [check for check in not_ready.json()["checks"] if not check["ok"]]
    assert failing == [{"name": "feed:fr", "ok": False, "detail": "last success 14 min ago; HTTP 500"}]
    assert httpx.get(f"{base}/healthz").status_code == 200  # not ready is not dead


def test_a_crashing_probe_answers_503(server: HealthServer, state: dict[str, list[Check]]) -> None:
    def broken() -> list[Check]:
        raise RuntimeError("database gone")

    state["ready"] = []
    server2 = HealthServer("127.0.0.1:0", liveness=lambda: [], readiness=broken).start()
    try:
        response = httpx.get(f"http://127.0.0.1:{server2.port}/readyz")
        assert response.status_code == 503
        assert "database gone" in json.dumps(response.json())
    finally:
        server2.stop()


def test_metrics_are_prometheus_text(server: HealthServer) -> None:
    metrics.documents_seen.labels(feed="pi").inc()
    metrics.detection_latency.labels(sink="slack").observe(42.0)
    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'monitor_documents_seen_total{feed="pi"}' in response.text
    assert 'monitor_detection_latency_seconds_bucket{le="60.0",sink="slack"}' in response.text


def test_unknown_path_is_404(server: HealthServer) -> None:
    assert httpx.get(f"http://127.0.0.1:{server.port}/admin").status_code == 404


def test_slow_clients_neither_pile_up_threads_nor_block_probes_for_long() -> None:
    """Issue 16 item 6: idle connections are dropped after the socket timeout and held on a bounded pool."""
    import socket
    import threading
    import time

    server = HealthServer(
        "127.0.0.1:0", liveness=lambda: [Check("ok", True)], readiness=lambda: [], socket_timeout=0.5, workers=4
    ).start()
    idle = []
    try:
        before = threading.active_count()
        for _ in range(40):  # slowloris: connect, never send a request
            idle.append(socket.create_connection(("127.0.0.1", server.port)))
        time.sleep(0.3)
        assert threading.active_count() <= before + 4
        started = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=30)
        assert response.status_code == 200
        assert time.monotonic() - started < 10 * 0.5 + 3  # 40 idle / 4 workers x 0.5 s, plus slack
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_a_client_that_hangs_up_early_is_one_log_line(capfd: pytest.CaptureFixture[str]) -> None:
    """Issue 16 item 6: a client gone before the answer is logged as one event, never a BrokenPipe traceback."""
    import socket
    import struct
    import time

    gate = threading_event()
    server = HealthServer("127.0.0.1:0", liveness=lambda: gate(), readiness=lambda: []).start()
    try:
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.close()
        time.sleep(1.0)
        assert httpx.get(f"http://127.0.0.1:{server.port}/metrics").status_code == 200
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err.replace("error=BrokenPipeError", "")


def threading_event() -> Callable[[], list[Check]]:
    """A liveness probe slow enough (0.1 s) for the client to have hung up before the answer is written."""
    import time

    def probe() -> list[Check]:
        time.sleep(0.1)
        return [Check("ok", True)]

    return probe
