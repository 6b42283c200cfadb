"""Running ``monitor run`` as a real subprocess against local Federal Register and Slack servers.

The October 2019 rule is the story: its public-inspection filing (16:15 ET on 2019-10-07, after the New York close)
appears on a local Federal Register server, with the rule's text standing in for the PI raw text (SYNTHETIC: the
reconstructed XML with its tags stripped, as the feed tests use it). The daemon replays simulated time
(``--replay-start/--replay-speed/--replay-anchor``) so the sessions that follow close within seconds, with prices
from the real CSV files in ``../shared/data/prices`` (in tests cut to 2016-2020: ``SessionInputs``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from monitor.db.engine import make_engine
from tests.conftest import SHARED_DATA
from tests.e2e.feed_server import FeedServer
from tests.fakes.slack_server import FakeSlack
from tests.feeds.test_raw_text import rule_2019_as_text
from tests.recent_prices import write_trimmed_prices

REPO = Path(__file__).resolve().parents[2]
RULE_DIR = SHARED_DATA / "feeds" / "entity_list_2019-22210"
PRICES = SHARED_DATA / "prices"
FILED_AT = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)  # 16:15 ET, after the New York close
TARGETS = ("002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ")  # Hikvision, Dahua, iFlytek, Meiya Pico
EMPTY_SEARCH = {"count": 0, "description": "Documents ", "total_pages": 0, "results": []}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, predicate: Callable[[], Any], *, timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def quiet_feeds(server: FeedServer) -> None:
    """A Federal Register with nothing new: no BIS document published, an empty public-inspection issue."""
    server.publish("documents_search.json", json.dumps(EMPTY_SEARCH))
    server.publish("consolidated.csv", (SHARED_DATA / "feeds" / "csl_us_consolidated_sample.csv").read_bytes())


def file_the_2019_rule(server: FeedServer) -> None:
    """The rule appears on public inspection: its text first, then the issue that lists it (its absolute URLs
    pointing at the local server, as a proxy in front of the API would rewrite them)."""
    server.publish("public_inspection_2019-22210.txt", rule_2019_as_text())
    issue = (RULE_DIR / "public_inspection_2019-10-07.json").read_text(encoding="utf-8")
    server.publish("public_inspection_current.json", issue.replace("https://www.federalregister.gov", server.base))


@dataclass
class Replay:
    """Simulated time for ``monitor run``: from ``anchor`` (Unix seconds) on, or, held, from ``release()``.

    A held replay stands at ``start`` until the test releases it (``--replay-anchor-file``): tests file the rule, wait
    for the card, then let the sessions close at full speed, so a slow process start on a loaded machine never makes
    the filing twelve simulated hours old before it is seen.
    """

    start: datetime
    speed: float
    anchor: float | None  # Unix time at which simulated time starts running; None until a held replay is released
    anchor_file: Path | None = None

    @classmethod
    def held(cls, start: datetime, speed: float, directory: Path) -> Replay:
        directory.mkdir(parents=True, exist_ok=True)
        return cls(start, speed, None, directory / "replay-anchor")

    def args(self) -> list[str]:
        timing = (
            ["--replay-anchor-file", str(self.anchor_file)]
            if self.anchor_file is not None
            else ["--replay-anchor", f"{self.anchor:.3f}"]
        )
        return ["--replay-start", self.start.isoformat(), "--replay-speed", str(self.speed), *timing]

    def release(self) -> float:
        """Let simulated time run from now on, for every process sharing the anchor file."""
        assert self.anchor_file is not None, "only a held replay is released"
        self.anchor = time.time()
        staging = self.anchor_file.with_suffix(".tmp")
        staging.write_text(f"{self.anchor:.6f}", encoding="ascii")
        staging.replace(self.anchor_file)
        return self.anchor

    def at(self, wall: float) -> datetime:
        assert self.anchor is not None, "simulated time has not been released yet"
        return self.start + timedelta(seconds=max(0.0, wall - self.anchor) * self.speed)


class SessionInputs:
    """What the e2e session's daemons share, built once on first use: a seeded data directory and the price files.

    A daemon's first start on an empty data directory migrates the database and seeds about 5,200 listings (3-4 s
    of a loaded machine's time per daemon); tests that are not about that first start begin from a copy of a data
    directory where that was done once, as a daemon restarted on an installed host does. Prices are the real files
    cut to 2016-2020 (``tests.recent_prices``): the same bars in every window the 2019 rule's studies read, without
    the decades a daemon's first price refresh would otherwise store. The e2e conftest places both for the session;
    without it (benchmarks) every daemon starts on an empty data directory with the full price files.
    """

    def __init__(self) -> None:
        self.root: Path | None = None
        self._built: set[str] = set()

    def place(self, root: Path | None) -> None:
        self.root = root
        self._built = set()

    def copy_data_dir(self, data_dir: Path) -> bool:
        """Copy the seeded data directory to ``data_dir`` (which must not exist yet); False when none is placed."""
        if self.root is None:
            return False
        template = self.root / "data"
        if "data" not in self._built:
            self._seed(template)
            self._built.add("data")
        shutil.copytree(template, data_dir)
        return True

    def prices(self) -> Path:
        if self.root is None:
            return PRICES
        directory = self.root / "prices"
        if "prices" not in self._built:
            write_trimmed_prices(directory)
            self._built.add("prices")
        return directory

    @staticmethod
    def _seed(data_dir: Path) -> None:
        """What a daemon's first start writes: the schema at head, then the seed with the market universe (the
        default ``matching.market_universe``, which ``daemon_env`` leaves in force)."""
        from monitor.config import Settings
        from monitor.db.engine import session_factory
        from monitor.db.migrate import upgrade
        from monitor.matching import ensure_seed_universe

        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        engine = make_engine(Settings(data_dir=data_dir, database_url=None).effective_database_url)
        try:
            upgrade(engine)
            with session_factory(engine).begin() as session:
                assert ensure_seed_universe(session, market=True) is not None
        finally:
            engine.dispose()  # the last connection closing checkpoints the WAL into the file
        for leftover in data_dir.iterdir():
            if leftover.name != "monitor.db":
                leftover.unlink()  # the migration's lock file: a daemon makes its own


session_inputs = SessionInputs()


def daemon_env(
    tmp_path: Path,
    feeds: FeedServer,
    slack: FakeSlack | None,
    *,
    database_url: str | None = None,
    first_start: bool = False,
    **extra: str,
) -> dict[str, str]:
    """The daemon's environment, its data directory ``tmp_path / "data"``. Unless ``first_start`` (or a
    ``database_url``), that directory begins as a copy of the session's seeded one, when one is placed."""
    if database_url is None and not first_start:
        session_inputs.copy_data_dir(tmp_path / "data")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "MONITOR_DATA_DIR": str(tmp_path / "data"),
            "MONITOR_FEDERAL_REGISTER_URL": feeds.federal_register_url,
            "MONITOR_CSL_URL": feeds.csl_url,
            "MONITOR_PRICES__SOURCE": f"dir:{session_inputs.prices()}",
            "MONITOR_POLL__PUBLIC_INSPECTION_SECONDS": "1",
            "MONITOR_POLL__PUBLIC_INSPECTION_BURST_SECONDS": "1",
            "MONITOR_POLL__DOCUMENTS_SECONDS": "2",
            "MONITOR_POLL__STUDIES_SECONDS": "0.5",
            "MONITOR_POLL__OUTBOX_SECONDS": "0.5",
            "MONITOR_DAEMON__CLOSE_CHECK_SECONDS": "0.5",
            "MONITOR_DAEMON__FEEDS": '["pi", "fr"]',
            "MONITOR_NETWORK__TIMEOUT_SECONDS": "1",
            "MONITOR_NETWORK__MAX_RETRIES": "0",
            "MONITOR_STUDY__PLACEBO_DRAWS": "20",
            "MONITOR_ALERTS__CHARTS": "false",
            "MONITOR_LOG__LEVEL": "INFO",
        }
    )
    if slack is not None:
        env.update(
            {
                "MONITOR_SLACK__BOT_TOKEN": slack.token,
                "MONITOR_SLACK__CHANNEL": slack.channel,
                "MONITOR_SLACK__BASE_URL": slack.base_url,
                "MONITOR_SLACK__MIN_POST_INTERVAL_SECONDS": "0",
            }
        )
    if database_url is not None:
        env["MONITOR_DATABASE_URL"] = database_url
    env.update(extra)
    return env


@dataclass
class DaemonProcess:
    """``python -m monitor run`` with its own HTTP port; stdout and stderr go to a log file."""

    env: dict[str, str]
    log_path: Path
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        env = {**self.env, "MONITOR_HTTP__ADDRESS": f"127.0.0.1:{self.port}"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", *self.args],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(self.url + path, timeout=2)
        except httpx.HTTPError:
            return None

    def wait_started(self, timeout: float = 60) -> None:
        def up() -> bool:
            self.assert_running()
            response = self.get("/healthz")
            return response is not None and response.status_code == 200

        wait_for(f"the daemon to answer /healthz\n{self.logs()}", up, timeout=timeout)

    def wait_warm(self, timeout: float) -> None:
        """Until the start-up warm-up (match index, name spotter, calendars) is done: a filing that reaches a daemon
        which has been running, as the latency bounds assume (the first seconds of a process are the benchmark's)."""
        wait_for("the warm-up", lambda: "job='warm'" in self.logs(), timeout=timeout)

    def assert_running(self) -> None:
        assert self.process is not None
        code = self.process.poll()
        assert code is None, f"the daemon exited with {code}:\n{self.logs()}"

    def terminate(self, timeout: float = 15, signum: int = signal.SIGTERM) -> tuple[int, float]:
        """SIGTERM (or ``signum``); returns (exit code, seconds it took to exit)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


@contextmanager
def running(*daemons: DaemonProcess) -> Iterator[tuple[DaemonProcess, ...]]:
    try:
        yield tuple(daemon.start() for daemon in daemons)
    finally:
        for daemon in daemons:
            daemon.stop_quietly()


def dedup_key(message: dict[str, Any]) -> str | None:
    key = (message.get("metadata") or {}).get("event_payload", {}).get("dedup_key")
    return str(key) if key else None


def card(slack: FakeSlack) -> dict[str, Any] | None:
    """The detected card of the 2019 rule, once it names the targets."""
    for message in slack.top_level():
        key = dedup_key(message) or ""
        if key.endswith(":detected") and all(symbol in json.dumps(message) for symbol in TARGETS):
            return message
    return None


def replies(slack: FakeSlack, root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Follow-ups in the card's thread, by dedup key."""
    return {dedup_key(m) or m["ts"]: m for m in slack.thread(slack.channel, str(root["ts"]))}
