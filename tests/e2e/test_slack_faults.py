"""``monitor run`` against a Slack in trouble (issue 16, items 2 and 3): every card arrives exactly once.

Slack slow in an incident: each ``chat.postMessage`` lands 3 s after it was sent while the client gives up after 2 s,
so the daemon never sees an answer and must find the message rather than post it again. Slack down: every call
answers 500 for longer than the old retry schedule (which dead-lettered the card); the card must arrive once within
30 s of recovery, the operator must hear in the log meanwhile, and /readyz must show no dead delivery afterwards.

Inputs: the shipped 2019-10-07 public-inspection issue (REAL) and the reconstructed 2019 rule as its raw text; the
Slack faults are SYNTHETIC. Robust on a loaded machine: the filing is served only once the daemon answers /healthz,
simulated time runs at real speed (so the outbox's backoff is wall-clock time), and the assertions are counts, with
waits far longer than the faults need.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import (
    FILED_AT,
    DaemonProcess,
    Replay,
    card,
    daemon_env,
    file_the_2019_rule,
    quiet_feeds,
    running,
    wait_for,
)
from tests.fakes.slack_server import FakeSlack, Fault

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def real_speed() -> Replay:
    return Replay(FILED_AT + timedelta(minutes=1), 1.0, time.time())


def assert_each_alert_once(slack: FakeSlack) -> None:
    counts = slack.dedup_keys()
    assert counts, "nothing reached Slack"
    assert all(count == 1 for count in counts.values()), counts


def settled(slack: FakeSlack, daemon: DaemonProcess) -> bool:
    """Every alert in the channel was found by a look-up after its unanswered post, or one was posted twice."""
    counts = slack.dedup_keys()
    return any(n > 1 for n in counts.values()) or daemon.logs().count("slack_message_found") >= len(counts)


def test_slack_landing_every_post_after_the_client_timeout_gets_exactly_one_card(tmp_path: Path) -> None:
    with FeedServer(tmp_path / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        slack.fail("chat.postMessage", *[Fault.lands_late(3.0)] * 50)  # always slow
        env = daemon_env(tmp_path, feeds, slack, MONITOR_NETWORK__TIMEOUT_SECONDS="2")
        daemon = DaemonProcess(env, tmp_path / "daemon.log", args=real_speed().args())
        with running(daemon):
            daemon.wait_started(timeout=90)  # a loaded 2-core machine can take long to import and migrate
            file_the_2019_rule(feeds)
            wait_for("the detected card", lambda: card(slack), timeout=60)
            wait_for("every message adopted (or posted twice)", lambda: settled(slack, daemon), timeout=90)
            wait_for("no post still landing", lambda: slack.in_flight() == 0, timeout=30)
            time.sleep(3)  # a duplicate would be posted at once after a missed look-up and land 3 s later
            code, _ = daemon.terminate()
        assert code == 0, daemon.logs()
        assert_each_alert_once(slack)
        assert slack.count("chat.postMessage") == len(slack.dedup_keys())
        assert "slack_post_unanswered" in daemon.logs()


def test_an_outage_longer_than_the_whole_retry_schedule_delivers_each_card_once_soon_after_recovery(
    tmp_path: Path,
) -> None:
    """Slack answers 500 to everything for longer than the old schedule (3 attempts, 1 s doubling) and long enough
    for the backoff to reach its cap (4 s here, so the outage need only last 12 s; the default cap, 20 s, would make
    it 45 s and recovery up to 20 s); after recovery every card arrives once within 30 s."""
    with FeedServer(tmp_path / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        slack.outage(Fault.server_error(500))
        env = daemon_env(
            tmp_path,
            feeds,
            slack,
            MONITOR_ALERTS__MAX_ATTEMPTS="3",
            MONITOR_ALERTS__BACKOFF_BASE_SECONDS="1",
            MONITOR_ALERTS__BACKOFF_MAX_SECONDS="4",
        )
        daemon = DaemonProcess(env, tmp_path / "daemon.log", args=real_speed().args())
        with running(daemon):
            daemon.wait_started(timeout=90)
            file_the_2019_rule(feeds)
            wait_for("posts failing", lambda: slack.count("chat.postMessage") >= 1, timeout=60)
            began = time.monotonic()
            wait_for(  # attempts at about 0, 1, 3, 7 s (plus the look-ups' own retries), then every 4 s (the cap)
                "the outage to outlast the schedule",
                lambda: daemon.logs().count("event='alert_retry'") >= 6 and time.monotonic() - began >= 12,
                timeout=180,
            )
            assert "operator_alert" in daemon.logs()  # Slack is the only sink: the operator hears in the log
            assert "alert_dead" not in daemon.logs()
            slack.recover()
            recovered = time.monotonic()
            wait_for("the card after recovery", lambda: card(slack), timeout=60)
            assert time.monotonic() - recovered <= 30, daemon.logs()
            wait_for("both alerts", lambda: len(slack.dedup_keys()) >= 2, timeout=30)
            time.sleep(3)  # room for a duplicate to show up
            ready = daemon.get("/readyz")
            assert ready is not None
            alerts = next(c for c in ready.json()["checks"] if c["name"] == "alerts")
            assert alerts["ok"], alerts
            code, _ = daemon.terminate()
        assert code == 0, daemon.logs()
        assert_each_alert_once(slack)
