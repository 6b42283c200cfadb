"""Retries, backoff and error mapping, against a real local HTTP server."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tenacity import RetryCallState, Retrying

from monitor.errors import DocumentNotFound, FeedRejected, FeedUnavailable
from monitor.feeds.http import FeedHttp, _BackoffWait, build_http_client
from tests.feeds.conftest import Handler, LocalServer, Recorded, Reply, Sleeps, fast_settings, json_reply

StartServer = Callable[[Handler], LocalServer]


def make_http(settings_overrides: dict[str, object] | None = None) -> tuple[FeedHttp, Sleeps]:
    settings = fast_settings(**(settings_overrides or {}))
    sleeps = Sleeps()
    http = FeedHttp(build_http_client(settings), settings.network, feed="test", sleep=sleeps, rng=random.Random(7))
    return http, sleeps


def sequence(*replies: Reply) -> Handler:
    remaining = list(replies)

    def handler(_: Recorded) -> Reply:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return handler


def test_retries_5xx_with_growing_jittered_backoff(local_server: StartServer) -> None:
    server = local_server(sequence(json_reply({}, 503), json_reply({}, 502), json_reply({"ok": True})))
    http, sleeps = make_http()
    response = http.get(f"{server.url}/documents.json", params=[("a", "1")])
    assert response.json() == {"ok": True}
    assert len(server.requests) == 3 == http.requests
    first, second = sleeps.calls
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


def test_429_honours_retry_after_seconds(local_server: StartServer) -> None:
    server = local_server(sequence(json_reply({}, 429, {"Retry-After": "3"}), json_reply({"ok": 1})))
    http, sleeps = make_http()
    assert http.get(server.url + "/x").json() == {"ok": 1}
    assert sleeps.calls == [3.0]


def test_retry_after_beyond_the_cap_gives_up_at_once(local_server: StartServer) -> None:
    server = local_server(sequence(json_reply({}, 429, {"Retry-After": "3600"})))
    http, sleeps = make_http()
    with pytest.raises(FeedUnavailable, match="asks to wait 3600s"):
        http.get(server.url + "/x")
    assert len(server.requests) == 1
    assert sleeps.calls == []


def test_timeouts_are_retried(local_server: StartServer) -> None:
    calls: list[int] = []

    def slow_then_fast(_: Recorded) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.6)
        return json_reply({"ok": True})

    server = local_server(slow_then_fast)
    http, sleeps = make_http({"network": {"timeout_seconds": 0.2}})
    assert http.get(server.url + "/slow").json() == {"ok": True}
    assert len(sleeps.calls) == 1
    assert http.requests == 2


def test_exhausted_retries_raise_feed_unavailable_without_the_query(local_server: StartServer) -> None:
    server = local_server(sequence(json_reply({}, 500)))
    http, sleeps = make_http()
    with pytest.raises(FeedUnavailable) as caught:
        http.get(server.url + "/documents.json", params=[("_", "123456")])
    assert "after 4 attempts: HTTP 500" in str(caught.value)
    assert "123456" not in str(caught.value)
    assert len(server.requests) == 4
    assert len(sleeps.calls) == 3


def test_client_errors_are_not_retried_and_say_why(local_server: StartServer) -> None:
    body = {"errors": {"fields": "is not a valid field"}, "status": 400}
    server = local_server(sequence(json_reply(body, 400)))
    http, sleeps = make_http()
    with pytest.raises(FeedRejected, match="HTTP 400: fields is not a valid field") as caught:
        http.get(server.url + "/documents.json")
    assert caught.value.status == 400
    assert len(server.requests) == 1
    assert sleeps.calls == []


def test_404_is_document_not_found(local_server: StartServer) -> None:
    server = local_server(sequence(json_reply({"status": 404, "message": "Record Not Found"}, 404)))
    http, _ = make_http()
    with pytest.raises(DocumentNotFound, match="Record Not Found"):
        http.get(server.url + "/documents/1999-00000.json")


def test_user_agent_names_the_product(local_server: StartServer) -> None:
    server = local_server(sequence(json_reply({})))
    http, _ = make_http({"network": {"contact_email": "desk@example.com"}})
    http.get(server.url + "/x")
    agent = server.requests[0].headers["User-Agent"]
    assert agent.startswith("entity-list-monitor/")
    assert "desk@example.com" in agent


def test_connection_refused_is_transient() -> None:
    http, sleeps = make_http({"network": {"max_retries": 1}})
    with pytest.raises(FeedUnavailable, match="connection failed"):
        http.get("http://127.0.0.1:9/unreachable")
    assert len(sleeps.calls) == 1


def test_bot_wall_redirect_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "www.federalregister.gov":
            return httpx.Response(302, headers={"Location": "https://unblock.federalregister.gov/?x=1"})
        return httpx.Response(200, text="<html>captcha</html>")

    settings = fast_settings()
    client = build_http_client(settings, httpx.MockTransport(handler))
    http = FeedHttp(client, settings.network, feed="fr", sleep=Sleeps())
    with pytest.raises(FeedUnavailable, match="bot wall"):
        http.get("https://www.federalregister.gov/documents/2019/10/09/2019-22210/x")


@given(attempt=st.integers(min_value=1, max_value=30), base=st.floats(0.01, 10), cap=st.floats(0.01, 120))
def test_backoff_stays_within_equal_jitter_bounds(attempt: int, base: float, cap: float) -> None:
    wait = _BackoffWait(base, cap, random.Random(attempt))
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    assert ceiling / 2 <= wait(state) <= ceiling


def test_a_relative_or_bad_url_is_rejected_not_retried() -> None:
    http, sleeps = make_http()
    with pytest.raises(FeedRejected, match=r"cannot request /documents/full_text/xml/x\.xml"):
        http.get("/documents/full_text/xml/x.xml")
    assert sleeps.calls == []
