"""``monitor run`` end to end: a real process, a local Federal Register, a local Slack, real prices, replayed time.

The October 2019 rule is filed on public inspection while the daemon runs. It must reach Slack within one poll
interval plus five seconds, naming the securities it hits, and its follow-ups must arrive in the card's thread as
the simulated sessions close, never before. The daemon must survive SIGKILL at a bad moment, share the work with a
second replica on PostgreSQL, sit out a Federal Register outage and catch up afterwards, and stop within ten
seconds of SIGTERM even when a job is stuck on the network. Each test asserts that every alert reached Slack
exactly once.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_schema
from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import (
    FILED_AT,
    TARGETS,
    DaemonProcess,
    Replay,
    card,
    daemon_env,
    dedup_key,
    file_the_2019_rule,
    quiet_feeds,
    replies,
    running,
    wait_for,
)
from tests.fakes.slack_server import FakeSlack

pytestmark = [pytest.mark.slow, pytest.mark.integration]

POLL_SECONDS = 1.0  # MONITOR_POLL__PUBLIC_INSPECTION_SECONDS in daemon_env
MARGIN = timedelta(minutes=30)  # prices.bar_margin_minutes: a follow-up never precedes close + margin
# Follow-ups of the 2019 rule and the session close (UTC) each one waits for.
CLOSES = {
    "g:XSHG:day0": datetime.fromisoformat("2019-10-08T07:00:00+00:00"),
    "g:XNYS:day0": datetime.fromisoformat("2019-10-08T20:00:00+00:00"),
    "g:XSHG:day1": datetime.fromisoformat("2019-10-09T07:00:00+00:00"),
}
# How long to wait for what must come before failing: generous, a loaded 2-core machine is slow; the only wall-clock
# bounds asserted are the ones the product promises (filing to card, SIGTERM to exit).
HARD_TIMEOUT = 90.0
FAST = 43200.0  # twelve simulated hours per second: 10-07 evening to the 10-09 Shanghai close in three seconds


def fast_replay(directory: Path) -> Replay:
    """Simulated time stands at one minute after the filing until the test releases it, once the card is out."""
    return Replay.held(FILED_AT + timedelta(minutes=1), FAST, directory)


def stage(key: str) -> str:
    return key.split(":", 2)[2]


def follow_ups_arrived(slack: FakeSlack, root: dict[str, Any], wanted: set[str]) -> dict[str, dict[str, Any]] | None:
    thread = {stage(key): message for key, message in replies(slack, root).items()}
    return thread if wanted <= set(thread) else None


def assert_each_alert_once(slack: FakeSlack) -> None:
    counts = slack.dedup_keys()
    assert counts, "nothing reached Slack"
    assert all(count == 1 for count in counts.values()), counts
    cards = [m for m in slack.top_level() if (dedup_key(m) or "").endswith(":g:all:detected")]
    assert len(cards) == 1


def metric(daemon: DaemonProcess, name: str, **labels: str) -> float:
    response = daemon.get("/metrics")
    assert response is not None
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" ([0-9.e+-]+)"
    found = re.search(pattern, response.text)
    return float(found.group(1)) if found else 0.0


def test_a_filed_rule_reaches_slack_within_a_poll_and_its_follow_ups_follow_the_closes(tmp_path: Path) -> None:
    with FeedServer(tmp_path / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        replay = fast_replay(tmp_path)
        # A first start on an empty data directory (the other e2e tests start from the seeded template): this is
        # the whole path of a fresh install, migration and seeding included, to the card and its follow-ups.
        env = daemon_env(tmp_path, feeds, slack, first_start=True)
        daemon = DaemonProcess(env, tmp_path / "daemon.log", args=replay.args())
        with running(daemon):
            daemon.wait_started()
            assert "(seeded from the shipped seed)" in daemon.logs()
            # Filed once the start-up warm-up is done, as a filing reaches a daemon that has been running: the bound
            # is the detection path's, not the first seconds of a process's life (benchmarks.daemon measures both).
            daemon.wait_warm(HARD_TIMEOUT)
            filed = time.monotonic()
            file_the_2019_rule(feeds)
            root = wait_for("the detected card", lambda: card(slack), timeout=HARD_TIMEOUT)
            assert time.monotonic() - filed <= POLL_SECONDS + 5, daemon.logs()
            shown = json.dumps(root)
            assert all(symbol in shown for symbol in (*TARGETS, "AMBA")), root["text"]
            assert "Hikvision" in shown

            replay.release()
            thread = wait_for(
                "the follow-ups", lambda: follow_ups_arrived(slack, root, set(CLOSES)), timeout=HARD_TIMEOUT
            )
            for name, close in CLOSES.items():
                arrived = replay.at(float(thread[name]["ts"]))
                assert arrived >= close + MARGIN, f"{name} arrived at simulated {arrived}, before {close + MARGIN}"
            assert metric(daemon, "monitor_detection_latency_seconds_count", sink="slack") == 1
            assert metric(daemon, "monitor_documents_new_total", feed="pi") == 1
            assert metric(daemon, "monitor_alerts_sent_total", sink="slack", stage="detected") == 1
            code, seconds = daemon.terminate()
        assert (code, seconds < 10) == (0, True), daemon.logs()
        assert "daemon_stopped" in daemon.logs()
        assert_each_alert_once(slack)


class StallingSlack(FakeSlack):
    """Posts the message, then holds the answer: the process dies knowing nothing of a message Slack has."""

    def __init__(self, stall_key_suffix: str) -> None:
        super().__init__()
        self.suffix = stall_key_suffix
        self.stalled = threading.Event()
        self.release = threading.Event()

    def handle(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = super().handle(method, params)
        key = str((params.get("metadata") or {}).get("event_payload", {}).get("dedup_key", ""))
        if method == "chat.postMessage" and key.endswith(self.suffix) and not self.stalled.is_set():
            self.stalled.set()
            self.release.wait(20)
        return answer


def test_sigkill_mid_cycle_then_restart_loses_and_repeats_nothing(tmp_path: Path) -> None:
    with FeedServer(tmp_path / "feeds") as feeds, StallingSlack(":g:all:detected") as slack:
        quiet_feeds(feeds)
        replay = fast_replay(tmp_path)
        env = daemon_env(tmp_path, feeds, slack)
        first = DaemonProcess(env, tmp_path / "first.log", args=replay.args())
        second = DaemonProcess(env, tmp_path / "second.log", args=replay.args())
        third = DaemonProcess(env, tmp_path / "third.log", args=replay.args())
        with running(first):
            first.wait_started()
            file_the_2019_rule(feeds)
            assert slack.stalled.wait(HARD_TIMEOUT), first.logs()
            first.kill()  # the card is in the channel; the outbox still says "sending"
        slack.release.set()
        assert card(slack) is not None
        with running(second):  # same replay anchor: it carries on in the same simulated week
            root = wait_for("the card", lambda: card(slack), timeout=5)
            replay.release()
            wait_for("a first follow-up", lambda: replies(slack, root), timeout=HARD_TIMEOUT)
            second.kill()  # wherever it is: polling, studying or posting
        with running(third):
            thread = wait_for(
                "the follow-ups", lambda: follow_ups_arrived(slack, root, set(CLOSES)), timeout=HARD_TIMEOUT
            )
            third.terminate()
        assert "slack_message_found" in second.logs() + third.logs()  # the card was adopted, not posted again
        assert set(CLOSES) <= set(thread)
        assert_each_alert_once(slack)


def test_two_daemons_on_postgresql_send_one_message_per_alert(tmp_path: Path) -> None:
    with postgres_schema(migrated=True) as url, FeedServer(tmp_path / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        replay = fast_replay(tmp_path)
        daemons = [
            DaemonProcess(
                daemon_env(tmp_path / name, feeds, slack, database_url=url),
                tmp_path / f"{name}.log",
                args=replay.args(),
            )
            for name in ("east", "west")
        ]
        with running(*daemons):
            for daemon in daemons:
                daemon.wait_started()
            file_the_2019_rule(feeds)
            root = wait_for("the detected card", lambda: card(slack), timeout=HARD_TIMEOUT)
            replay.release()
            wait_for("the follow-ups", lambda: follow_ups_arrived(slack, root, set(CLOSES)), timeout=HARD_TIMEOUT)
            skipped = sum(metric(d, "monitor_job_runs_total", job="poll_pi", outcome="skipped") for d in daemons)
            polled = [metric(d, "monitor_job_runs_total", job="poll_pi", outcome="ok") for d in daemons]
            for daemon in daemons:
                code, seconds = daemon.terminate()
                assert (code, seconds < 10) == (0, True), daemon.logs()
        assert skipped > 0  # the lease kept the replicas from polling at once
        assert all(count > 0 for count in polled), polled  # and they took turns
        assert_each_alert_once(slack)


def test_a_federal_register_outage_is_survived_reported_and_caught_up(tmp_path: Path) -> None:
    """Ten simulated minutes of timeouts, 500s and garbage JSON, during which the rule is filed."""
    with FeedServer(tmp_path / "feeds", hang_seconds=2.0) as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        replay = Replay(FILED_AT - timedelta(minutes=2), 200.0, time.time())
        env = daemon_env(
            tmp_path,
            feeds,
            slack,
            MONITOR_POLL__PUBLIC_INSPECTION_SECONDS="0.5",
            MONITOR_POLL__PUBLIC_INSPECTION_BURST_SECONDS="0.5",
            MONITOR_NETWORK__TIMEOUT_SECONDS="0.5",
        )
        daemon = DaemonProcess(env, tmp_path / "daemon.log", args=replay.args())
        with running(daemon):
            daemon.wait_started()
            wait_for(
                "ready", lambda: (r := daemon.get("/readyz")) is not None and r.status_code == 200, timeout=HARD_TIMEOUT
            )
            daemon.wait_warm(HARD_TIMEOUT)
            feeds.outage()
            outage_began = time.time()
            file_the_2019_rule(feeds)

            def reported() -> dict[str, Any] | None:
                response = daemon.get("/readyz")
                if response is None or response.status_code != 503:
                    return None
                failing = {c["name"]: c["detail"] for c in response.json()["checks"] if not c["ok"]}
                # A hung poll can make the feed "stale" before three failures have been counted; wait for the count.
                return failing if "failed polls in a row" in failing.get("feed:pi", "") else None

            failing = wait_for("/readyz to report the feed", reported, timeout=HARD_TIMEOUT)
            assert "failed polls in a row" in failing["feed:pi"]
            live = daemon.get("/healthz")
            assert live is not None
            assert live.status_code == 200  # not ready, but alive: restarting would not bring the feed back
            wait_for(
                "ten simulated minutes",
                lambda: replay.at(time.time()) >= replay.at(outage_began) + timedelta(minutes=10),
                timeout=10,
            )
            assert metric(daemon, "monitor_poll_failures_total", feed="pi") >= 3
            assert metric(daemon, "monitor_feed_consecutive_failures", feed="pi") >= 3
            assert feeds.faults_served() == {"timeout", "500", "garbage"}
            assert card(slack) is None
            daemon.assert_running()

            feeds.recover()
            recovered = time.monotonic()
            wait_for("the card after the outage", lambda: card(slack), timeout=HARD_TIMEOUT)
            # Caught up within a poll of the recovery plus the first filing's work; how fast that work is on an
            # idle machine is benchmarks.daemon's business, not a bound to fail on a loaded CI box.
            assert time.monotonic() - recovered <= 20
            ready = wait_for(
                "ready again",
                lambda: (r := daemon.get("/readyz")) is not None and r.status_code == 200,
                timeout=HARD_TIMEOUT,
            )
            assert ready
            assert metric(daemon, "monitor_feed_consecutive_failures", feed="pi") == 0
            code, seconds = daemon.terminate(signum=signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
        assert (code, seconds < 10) == (0, True), daemon.logs()
        assert_each_alert_once(slack)


def test_sigterm_stops_within_ten_seconds_even_with_a_job_stuck_on_the_network(tmp_path: Path) -> None:
    with FeedServer(tmp_path / "feeds", hang_seconds=30) as feeds:
        quiet_feeds(feeds)
        env = daemon_env(
            tmp_path,
            feeds,
            None,
            MONITOR_NETWORK__TIMEOUT_SECONDS="25",
            MONITOR_DAEMON__SHUTDOWN_GRACE_SECONDS="2",
        )
        daemon = DaemonProcess(env, tmp_path / "daemon.log", args=fast_replay(tmp_path).args())
        feeds.outage(("timeout",))
        with running(daemon):
            daemon.wait_started()
            wait_for("a poll hanging on the network", lambda: feeds.count("current.json") >= 1, timeout=HARD_TIMEOUT)
            code, seconds = daemon.terminate()
        assert code == 0
        assert seconds < 10
        logs = daemon.logs()
        assert "shutdown_abandoning_jobs" in logs
        assert "poll_pi" in logs.split("shutdown_abandoning_jobs", 1)[1]
