"""A local HTTP server speaking the slice of the Slack Web API the monitor uses, with scripted failures.

Reusable by any test that needs Slack (the alerts tests, the daemon's end-to-end tests):

    with FakeSlack() as slack:
        settings = Settings(slack={"bot_token": slack.token, "channel": slack.channel, "base_url": slack.base_url})
        slack.fail("chat.postMessage", Fault.rate_limited(retry_after=1), Fault.drop_after())
        ...
        assert slack.count("chat.postMessage") == 3
        assert [m["ts"] for m in slack.thread(slack.channel, root_ts)] == [...]

It answers like Slack does: JSON bodies or form bodies in, ``{"ok": ...}`` out, 429 with ``Retry-After``, message
``metadata`` only when ``include_all_metadata`` is asked for, a three-step external upload, and the Block Kit
limits checked independently of the code under test (``invalid_blocks``). Faults are consumed in order, per method:
``drop_before`` closes the connection before acting, ``drop_after`` acts (the message is posted) and then closes
the connection without answering, which is the case that tempts a naive client into posting twice. ``lands_late``
holds the request for some seconds before acting and answering: a client whose timeout is shorter gives up while
Slack is still working, and the message appears afterwards (Slack slow during an incident). ``outage()`` answers
every API call with one fault until ``recover()``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Slack's documented Block Kit limits, written out here rather than imported from the code under test.
_MAX_BLOCKS = 50
_MAX_SECTION = 3000
_MAX_HEADER = 150
_MAX_TEXT = 40_000


@dataclass(frozen=True)
class Fault:
    kind: str  # rate_limited | status | error | drop_before | drop_after | late
    status: int = 500
    retry_after: int = 1
    error: str = ""
    seconds: float = 0.0

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        return cls("rate_limited", status=429, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls("status", status=status)

    @classmethod
    def slack_error(cls, error: str) -> Fault:
        return cls("error", error=error)

    @classmethod
    def drop_before(cls) -> Fault:
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        return cls("drop_after")

    @classmethod
    def lands_late(cls, seconds: float) -> Fault:
        """Act (post) and answer only after ``seconds``: late for a client with a shorter timeout."""
        return cls("late", seconds=seconds)


@dataclass(frozen=True)
class Recorded:
    method: str  # "chat.postMessage", or "upload" for the upload URL
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when received


@dataclass
class _State:
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Recorded] = field(default_factory=list)
    outage: Fault | None = None
    in_flight: int = 0
    last_ts: float = 0.0
    next_file: int = 0


class FakeSlack:
    """Start with ``start()`` or ``with``; the server binds to 127.0.0.1 on a free port."""

    def __init__(
        self,
        *,
        token: str = "xoxb-fake-test-token-0000",
        channels: tuple[str, ...] = ("C0TESTCHAN1",),
        team: str = "Test Trading Desk",
        bot_user: str = "entity-list-monitor",
    ) -> None:
        self.token = token
        self.channels = channels
        self.team = team
        self.bot_user = bot_user
        self._state = _State()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(_Handler):
            slack = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def channel(self) -> str:
        return self.channels[0]

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The ``slack`` settings section pointing at this server, unpaced: ``Settings(slack=fake.settings())``."""
        return {
            "bot_token": self.token,
            "channel": self.channel,
            "base_url": self.base_url,
            "min_post_interval_seconds": 0,
            **overrides,
        }

    # --- scripting and inspection --------------------------------------------------------------------------------

    def fail(self, method: str, *faults: Fault) -> None:
        """Answer the next calls of ``method`` with these faults, in order; later calls succeed."""
        with self._lock:
            self._state.faults[method].extend(faults)

    def outage(self, fault: Fault | None = None) -> None:
        """Answer every API call with ``fault`` (a 500 by default) until ``recover()``."""
        with self._lock:
            self._state.outage = fault or Fault.server_error(500)

    def recover(self) -> None:
        with self._lock:
            self._state.outage = None

    def in_flight(self) -> int:
        """Requests held by ``lands_late`` that have not acted yet."""
        with self._lock:
            return self._state.in_flight

    def requests(self, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self._state.requests if method is None or r.method == method]

    def count(self, method: str) -> int:
        return len(self.requests(method))

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message in the channel (top level and replies), oldest first."""
        with self._lock:
            return [dict(m) for m in self._state.messages[channel or self.channel]]

    def top_level(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.messages(channel) if m.get("thread_ts") in (None, m["ts"])]

    def thread(self, channel: str | None, ts: str) -> list[dict[str, Any]]:
        """The replies under ``ts`` (not the parent), oldest first."""
        return [m for m in self.messages(channel) if m.get("thread_ts") == ts and m["ts"] != ts]

    def dedup_keys(self, channel: str | None = None) -> Counter[str]:
        """How many messages carry each alert dedup key in their metadata: every value should be 1."""
        keys = ((m.get("metadata") or {}).get("event_payload", {}).get("dedup_key") for m in self.messages(channel))
        return Counter(key for key in keys if key)

    def uploaded(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self._state.files.items()}

    def post_foreign(self, text: str, channel: str | None = None) -> str:
        """A message someone else posted, so look-ups have to skip what is not ours."""
        with self._lock:
            return str(self._append(channel or self.channel, {"text": text, "user": "U0HUMAN"})["ts"])

    # --- the API -------------------------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        now = max(time.time(), self._state.last_ts + 0.000001)
        self._state.last_ts = now
        return f"{now:.6f}"

    def _append(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        record = {"type": "message", "ts": self._next_ts(), **message}
        self._state.messages[channel].append(record)
        return record

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._state.messages[channel] if m["ts"] == ts), None)

    def handle(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            if handler is None:
                return {"ok": False, "error": "unknown_method"}
            result: dict[str, Any] = handler(params)
            return result

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test-desk.slack.com/",
            "team": self.team,
            "user": self.bot_user,
            "team_id": "T0TEST",
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
        }

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        problem = _block_problem(params)
        if problem:
            return {"ok": False, "error": problem}
        thread_ts = params.get("thread_ts")
        if thread_ts and self._find(channel, str(thread_ts)) is None:
            return {"ok": False, "error": "thread_not_found"}
        message: dict[str, Any] = {"text": params.get("text", ""), "user": "U0BOT", "bot_id": "B0BOT"}
        for name in ("blocks", "thread_ts", "metadata", "reply_broadcast"):
            if params.get(name) not in (None, ""):
                message[name] = _json_value(params[name])
        record = self._append(channel, message)
        return {"ok": True, "channel": channel, "ts": record["ts"], "message": record}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        message = self._find(channel, str(params.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found" if channel in self.channels else "channel_not_found"}
        problem = _block_problem(params)
        if problem:
            return {"ok": False, "error": problem}
        for name in ("text", "blocks", "metadata"):
            if params.get(name) is not None:
                message[name] = _json_value(params[name])
        message["edited"] = {"user": "U0BOT", "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message.get("text", "")}

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        top = [
            m
            for m in self._state.messages[channel]
            if (m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast")) and oldest < float(m["ts"]) < latest
        ]
        return self._page(list(reversed(top)), params)  # newest first, as Slack does

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        parent = self._find(channel, ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in self._state.messages[channel] if m.get("thread_ts") == ts and m["ts"] != ts]
        return self._page([parent, *replies], params)

    def _page(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        start = int(str(params.get("cursor") or "off:0").removeprefix("off:"))
        size = int(params.get("limit") or 100)
        chunk = messages[start : start + size]
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in chunk]
        more = start + size < len(messages)
        return {
            "ok": True,
            "messages": [dict(m) for m in shown],
            "has_more": more,
            "response_metadata": {"next_cursor": f"off:{start + size}" if more else ""},
        }

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        self._state.next_file += 1
        file_id = f"F{self._state.next_file:08d}"
        self._state.files[file_id] = {"id": file_id, "name": params["filename"], "length": int(params["length"])}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    def upload(self, file_id: str, body: bytes) -> bool:
        with self._lock:
            record = self._state.files.get(file_id)
            if record is None:
                return False
            record["bytes"] = body
            return True

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = _json_value(params.get("files") or "[]")
        records = []
        for entry in files:
            record = self._state.files.get(entry.get("id", ""))
            if record is None or "bytes" not in record:
                return {"ok": False, "error": "file_not_found"}
            record["title"] = entry.get("title") or record["name"]
            records.append(record)
        channel = params.get("channel_id")
        if channel:
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            message: dict[str, Any] = {
                "text": params.get("initial_comment", ""),
                "user": "U0BOT",
                "files": [{"id": r["id"], "name": r["name"], "title": r["title"]} for r in records],
            }
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            posted = self._append(str(channel), message)
            for record in records:
                record["shares"] = {"public": {channel: [{"ts": posted["ts"]}]}}
        return {"ok": True, "files": [{k: v for k, v in r.items() if k != "bytes"} for r in records]}

    def _record(self, method: str, params: dict[str, Any], headers: dict[str, str], body: bytes) -> Fault | None:
        with self._lock:
            self._state.requests.append(Recorded(method, params, headers, body, time.monotonic()))
            queue = self._state.faults.get(method)
            fault = queue.popleft() if queue else self._state.outage
            if fault is not None and fault.kind == "late":
                self._state.in_flight += 1
            return fault

    def landed(self) -> None:
        with self._lock:
            self._state.in_flight -= 1


def _json_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def _block_problem(params: dict[str, Any]) -> str | None:
    text = params.get("text") or ""
    if len(text) > _MAX_TEXT:
        return "msg_too_long"
    blocks = _json_value(params.get("blocks") or [])
    if not blocks and not text:
        return "no_text"
    if len(blocks) > _MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        if block.get("type") == "header" and len(block["text"]["text"]) > _MAX_HEADER:
            return "invalid_blocks"
        if block.get("type") == "section" and len((block.get("text") or {}).get("text", "")) > _MAX_SECTION:
            return "invalid_blocks"
    return None


class _Handler(BaseHTTPRequestHandler):
    slack: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        if url.path.startswith("/upload/"):
            self.slack._record("upload", {"file_id": url.path.rsplit("/", 1)[-1]}, headers, body)
            ok = self.slack.upload(url.path.rsplit("/", 1)[-1], body)
            self._send(200 if ok else 404, f"OK - {len(body)}" if ok else "not found", content_type="text/plain")
            return
        method = url.path.removeprefix("/api/")
        params: dict[str, Any] = dict(parse_qsl(url.query))
        if "json" in (self.headers.get("Content-Type") or ""):
            params.update(json.loads(body or b"{}"))
        elif body:
            params.update(parse_qsl(body.decode("utf-8")))
        fault = self.slack._record(method, params, headers, body)
        if fault is not None and fault.kind == "late":
            time.sleep(fault.seconds)  # the client may have given up meanwhile; Slack carries on regardless
            try:
                self._send(200, json.dumps(self._answer(method, params)))
            except OSError:
                pass  # the client hung up: it never learns that the message was posted
            finally:
                self.slack.landed()
            return
        if fault is not None and fault.kind == "drop_before":
            self._drop()
            return
        if fault is not None and fault.kind == "rate_limited":
            self._send(
                429, json.dumps({"ok": False, "error": "ratelimited"}), extra={"Retry-After": str(fault.retry_after)}
            )
            return
        if fault is not None and fault.kind == "status":
            self._send(fault.status, "<html><body>upstream connect error</body></html>", content_type="text/html")
            return
        if fault is not None and fault.kind == "error":
            self._send(200, json.dumps({"ok": False, "error": fault.error}))
            return
        answer = self._answer(method, params)
        if fault is not None and fault.kind == "drop_after":
            self._drop()
            return
        self._send(200, json.dumps(answer))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.headers.get("Authorization") != f"Bearer {self.slack.token}":
            return {"ok": False, "error": "invalid_auth"}
        return self.slack.handle(method, params)

    def _drop(self) -> None:
        self.close_connection = True
        self.wfile.flush()

    def _send(
        self, status: int, text: str, *, content_type: str = "application/json", extra: dict[str, str] | None = None
    ) -> None:
        payload = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
