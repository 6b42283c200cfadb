"""The daemon in-process: start-up checks, one pass of every job (``--once``), exit codes, the instance lock."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.checks import StartupCheck
from jobs.daemon import Daemon, exit_code
from jobs.instance_lock import InstanceLock
from jobs.runner import RunRecord
from monitor.bootstrap import AppContext
from monitor.clock import SimulatedClock
from monitor.commands import compose
from monitor.errors import ConfigError, DatabaseInUse, FeedUnavailable
from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import TARGETS, card, file_the_2019_rule, quiet_feeds, replies
from tests.fakes.slack_server import FakeSlack
from tests.recent_prices import recent_prices

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


@pytest.fixture
def feeds(tmp_path: Path) -> Iterator[FeedServer]:
    with FeedServer(tmp_path / "feeds", hang_seconds=1.5) as server:
        quiet_feeds(server)
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def context_for(
    tmp_path: Path, feeds: FeedServer, slack: FakeSlack, *, token: str | None = None, **more: Any
) -> AppContext:
    overrides: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "federal_register_url": feeds.federal_register_url,
        "csl_url": feeds.csl_url,
        "slack": slack.settings(**({"bot_token": token} if token else {})),
        "prices": {"source": f"dir:{recent_prices()}"},
        "study": {"placebo_draws": 20},
        "alerts": {"charts": False},
        "network": {"timeout_seconds": 1, "max_retries": 0},
        "daemon": {"feeds": ["pi", "fr"]},
        **more,
    }
    return AppContext(cli_overrides=overrides)


def daemon_for(context: AppContext, clock: SimulatedClock) -> tuple[Daemon, list[StartupCheck]]:
    lines: list[StartupCheck] = []
    return compose.daemon(context, clock=clock, report=lines.append), lines


def test_once_runs_every_job_in_order_and_exits_0(tmp_path: Path, feeds: FeedServer, slack: FakeSlack) -> None:
    """At 21:00 UTC on 2019-10-08 both exchanges have closed day 0: one pass detects, studies and delivers."""
    file_the_2019_rule(feeds)
    handler = signal.getsignal(signal.SIGTERM)
    daemon, lines = daemon_for(
        context_for(tmp_path, feeds, slack), SimulatedClock(datetime(2019, 10, 8, 21, tzinfo=UTC))
    )
    daemon.start()
    assert [(c.name, c.level) for c in lines] == [
        ("instance", "ok"),
        ("database", "ok"),
        ("universe", "ok"),
        ("calendars", "ok"),
        ("slack", "ok"),
    ]
    assert daemon.once() == 0
    assert [(c.name, c.level) for c in lines[5:]] == [
        ("poll_pi", "ok"),
        ("poll_fr", "ok"),
        ("refresh_prices", "ok"),
        ("update_studies", "ok"),
        ("deliver_alerts", "ok"),
    ]
    root = card(slack)
    assert root is not None
    thread = replies(slack, root)
    assert {key.split(":", 2)[2] for key in thread} >= {"g:XSHG:day0", "g:XNYS:day0"}
    assert all(count == 1 for count in slack.dedup_keys().values())
    assert signal.getsignal(signal.SIGTERM) == handler  # restored for whoever embeds the daemon
    assert not (daemon.lock and daemon.lock.held)


def test_once_exits_4_when_a_feed_is_down(tmp_path: Path, feeds: FeedServer, slack: FakeSlack) -> None:
    daemon, lines = daemon_for(context_for(tmp_path, feeds, slack), SimulatedClock(datetime(2019, 10, 8, tzinfo=UTC)))
    daemon.start()
    feeds.outage()
    assert daemon.once() == 4
    results = {c.name: c for c in lines}
    assert results["poll_pi"].level == "fail"
    assert results["poll_pi"].detail.startswith("failed: federal_register: ")
    assert results["deliver_alerts"].level == "ok"


def test_a_second_daemon_on_one_sqlite_file_is_refused(tmp_path: Path, feeds: FeedServer, slack: FakeSlack) -> None:
    holder = InstanceLock(tmp_path / "data" / "monitor.db.run.lock").acquire()
    try:
        daemon, lines = daemon_for(
            context_for(tmp_path, feeds, slack), SimulatedClock(datetime(2019, 10, 8, tzinfo=UTC))
        )
        with pytest.raises(DatabaseInUse, match="another `monitor run`"):
            daemon.start()
        daemon.close()
    finally:
        holder.release()
    assert [(c.name, c.level) for c in lines] == [("instance", "fail")]


def test_a_refused_slack_token_stops_the_start(tmp_path: Path, feeds: FeedServer, slack: FakeSlack) -> None:
    context = context_for(tmp_path, feeds, slack, token="xoxb-revoked-0000")
    daemon, lines = daemon_for(context, SimulatedClock(datetime(2019, 10, 8, tzinfo=UTC)))
    with pytest.raises(ConfigError, match="invalid_auth"):
        daemon.start()
    daemon.close()
    assert lines[-1].name == "slack"
    assert lines[-1].level == "fail"


def test_exit_code_prefers_the_most_serious_failure() -> None:
    ok, skipped = RunRecord("ok"), RunRecord("skipped", detail="lease held elsewhere")
    transient = RunRecord("failed", FeedUnavailable("down"), "down")
    bug = RunRecord("failed", None, "KeyError: x")
    assert exit_code([ok, skipped]) == 0
    assert exit_code([ok, transient]) == 4
    assert exit_code([transient, bug]) == 1
    assert TARGETS  # the card above names these


def test_a_taken_http_port_is_a_clear_error(tmp_path: Path, feeds: FeedServer, slack: FakeSlack) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        context = context_for(tmp_path, feeds, slack, http={"address": address})
        daemon, _ = daemon_for(context, SimulatedClock(datetime(2019, 10, 8, tzinfo=UTC)))
        daemon.start()
        try:
            with pytest.raises(ConfigError, match=rf"http.address: cannot listen on {address}: Address already in use"):
                daemon.serve()
        finally:
            daemon.close()


def test_sigterm_cuts_once_short_with_128_plus_the_signal(
    tmp_path: Path, feeds: FeedServer, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from jobs.runner import JobResult

    before = signal.getsignal(signal.SIGTERM)
    daemon, lines = daemon_for(context_for(tmp_path, feeds, slack), SimulatedClock(datetime(2019, 10, 8, tzinfo=UTC)))
    daemon.start()

    def poll_then_terminated(feed: object) -> JobResult:
        os.kill(os.getpid(), signal.SIGTERM)  # delivered to this (main) thread: the daemon's handler sets the flag
        return JobResult()

    monkeypatch.setattr(daemon.parts.tasks, "poll", poll_then_terminated)
    assert daemon.once() == 128 + signal.SIGTERM
    assert [c.name for c in lines[5:]] == ["poll_pi"]  # nothing after the signal
    assert signal.getsignal(signal.SIGTERM) == before
