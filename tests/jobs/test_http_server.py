"""Health, readiness and metrics endpoints over a real local socket."""

from __future__ import annotations

import json
from collections.abc import Iterator

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
