"""``monitor run`` through the real CLI entry point: --once exit codes, start-up lines, bad replay options."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.instance_lock import InstanceLock
from monitor.cli import main
from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import card, file_the_2019_rule, quiet_feeds
from tests.fakes.slack_server import FakeSlack
from tests.recent_prices import recent_prices

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FeedServer, FakeSlack]]:
    with FeedServer(tmp_path / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        for name, value in {
            "MONITOR_DATA_DIR": str(tmp_path / "data"),
            "MONITOR_FEDERAL_REGISTER_URL": feeds.federal_register_url,
            "MONITOR_CSL_URL": feeds.csl_url,
            "MONITOR_SLACK__BOT_TOKEN": slack.token,
            "MONITOR_SLACK__CHANNEL": slack.channel,
            "MONITOR_SLACK__BASE_URL": slack.base_url,
            "MONITOR_SLACK__MIN_POST_INTERVAL_SECONDS": "0",
            "MONITOR_PRICES__SOURCE": f"dir:{recent_prices()}",
            "MONITOR_STUDY__PLACEBO_DRAWS": "20",
            "MONITOR_ALERTS__CHARTS": "false",
            "MONITOR_NETWORK__MAX_RETRIES": "0",
            "MONITOR_NETWORK__TIMEOUT_SECONDS": "1",
        }.items():
            monkeypatch.setenv(name, value)
        yield feeds, slack


def test_once_prints_one_line_per_check_and_job_and_exits_0(
    env: tuple[FeedServer, FakeSlack], capsys: pytest.CaptureFixture[str]
) -> None:
    feeds, slack = env
    file_the_2019_rule(feeds)
    assert main(["run", "--once", "--replay-start", "2019-10-07T20:30:00Z"]) == 0
    err = capsys.readouterr().err
    for line in (
        "ok   instance: sole daemon on this SQLite file",
        "ok   database: sqlite:///",
        "ok   universe: ",
        "ok   slack: authenticated as entity-list-monitor in Test Trading Desk",
        "ok   poll_pi: ok",
        "ok   poll_csl: ok",
        "ok   deliver_alerts: ok",
    ):
        assert line in err, err
    assert card(slack) is not None


def test_once_exits_4_while_the_federal_register_is_down(
    env: tuple[FeedServer, FakeSlack], capsys: pytest.CaptureFixture[str]
) -> None:
    feeds, _ = env
    feeds.outage(("500",))
    assert main(["run", "--once"]) == 4
    assert "FAIL poll_pi: failed: federal_register: " in capsys.readouterr().err


def test_a_second_instance_on_one_sqlite_file_is_refused(
    env: tuple[FeedServer, FakeSlack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = InstanceLock(tmp_path / "data" / "monitor.db.run.lock").acquire()
    try:
        assert main(["run", "--once"]) == 3
    finally:
        holder.release()
    err = capsys.readouterr().err
    assert "FAIL instance: another `monitor run`" in err
    assert "monitor: error: another `monitor run`" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "--replay-start 'yesterday': expected ISO 8601 such as 2019-10-07T20:30:00Z"),
        ("2019-10-07T20:16:00", "--replay-start '2019-10-07T20:16:00': add a UTC offset (…Z or +08:00)"),
    ],
)
def test_bad_replay_options_are_refused(
    env: tuple[FeedServer, FakeSlack], capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    assert main(["run", "--once", "--replay-start", value]) == 2
    assert f"monitor: error: {message}" in capsys.readouterr().err


def test_replay_options_stay_out_of_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--once" in out
    assert "--replay" not in out


def test_once_json_summarises_the_checks_and_the_jobs(
    env: tuple[FeedServer, FakeSlack], capsys: pytest.CaptureFixture[str]
) -> None:
    feeds, slack = env
    file_the_2019_rule(feeds)
    code = main(["run", "--once", "--json", "--replay-start", "2019-10-07T20:30:00Z"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    body = json.loads(captured.out)  # the JSON alone on stdout; the check lines went to stderr
    assert "ok   instance: sole daemon on this SQLite file" in captured.err
    assert (body["exit_code"], body["interrupted"]) == (0, False)
    checks = {check["name"]: check for check in body["checks"]}
    assert {"instance", "database", "universe", "slack"} <= set(checks)
    assert checks["slack"]["status"] == "ok"
    assert "authenticated as entity-list-monitor in Test Trading Desk" in checks["slack"]["detail"]
    jobs = {job["job"]: job for job in body["jobs"]}
    # the start-up catch-up, then the pipeline's order as `run --help` gives it: public inspection, documents and
    # the CSL polled, prices refreshed, studies updated, alerts delivered
    assert [job["job"] for job in body["jobs"]] == [
        "catch_up", "poll_pi", "poll_fr", "poll_csl", "refresh_prices", "update_studies", "deliver_alerts",
    ]  # fmt: skip
    for job in body["jobs"]:
        assert job["outcome"] == "ok", job
        assert isinstance(job["seconds"], float)
        assert job["seconds"] >= 0
    assert card(slack) is not None
    assert jobs["deliver_alerts"]["summary"]["sent"] == len(slack.messages())  # what Slack received, counted there


def test_once_json_says_which_job_failed_and_exits_4(
    env: tuple[FeedServer, FakeSlack], capsys: pytest.CaptureFixture[str]
) -> None:
    feeds, _ = env
    feeds.outage(("500",))
    assert main(["run", "--once", "--json"]) == 4
    body = json.loads(capsys.readouterr().out)
    assert body["exit_code"] == 4
    failed = [job for job in body["jobs"] if job["outcome"] == "failed"]
    assert failed
    assert failed[0]["job"] == "poll_pi"
    assert failed[0]["detail"].startswith("federal_register: ")


def test_json_needs_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "monitor: error: --json needs --once" in captured.err
