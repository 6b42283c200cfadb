"""The daemon: start-up, detection latency through the real process, the cost of a quiet poll, shutdown.

    python -m benchmarks.daemon

Everything runs locally: ``monitor run`` as a subprocess against a local Federal Register (saved-response layout)
and the fake Slack Web API, on SQLite in a temporary directory. Detection latency is measured the way a trader
feels it: from the moment a filing appears on public inspection to the moment Slack has accepted the card, with
the public-inspection interval at 1 s (the issue's bound is one interval plus 5 s). Rules after the first are the
2019 rule under other document numbers (SYNTHETIC copies), so each is a new filing to the daemon.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from alerts.delivery import DeliveryWorker
from benchmarks._table import Row, report
from jobs.closes import CloseWatch
from jobs.leasing import LeaseKeeper
from jobs.runner import JobRunner, JobSpec
from jobs.tasks import DaemonTasks
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.feeds.wiring import build_clients, build_poller
from monitor.logs import configure_logging
from monitor.models import FeedName
from monitor.pipeline import Pipeline
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import (
    FILED_AT,
    PRICES,
    RULE_DIR,
    DaemonProcess,
    Replay,
    daemon_env,
    dedup_key,
    quiet_feeds,
    wait_for,
)
from tests.fakes.slack_server import FakeSlack
from tests.feeds.test_raw_text import rule_2019_as_text

RULES = 5


def file_rule(feeds: FeedServer, number: str) -> None:
    """The 2019 filing under ``number``: its text at the PI raw-text path for that number, then the issue."""
    digits = number.replace("-", "")
    text = rule_2019_as_text().replace("2019-22210", number)
    feeds.publish(f"public_inspection_{digits[:4]}-{digits[4:]}.txt", text)
    issue = json.loads((RULE_DIR / "public_inspection_2019-10-07.json").read_text(encoding="utf-8"))
    record = issue["results"][0]
    record["document_number"] = number
    record["raw_text_url"] = f"{feeds.base}/public-inspection/raw_text/{digits[:3]}/{digits[3:6]}/{digits[6:]}.txt"
    record["pdf_url"] = f"{feeds.base}/{number}.pdf"
    issue["special_filings_updated_at"] = datetime.now(UTC).isoformat()  # a new cursor: the issue changed
    feeds.publish("public_inspection_current.json", json.dumps(issue))


def card_for(slack: FakeSlack, number: str) -> bool:
    return any(number in json.dumps(m) and (dedup_key(m) or "").endswith(":detected") for m in slack.top_level())


def process_figures(workdir: Path) -> dict[str, float | list[float]]:
    figures: dict[str, float | list[float]] = {}
    with FeedServer(workdir / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        replay = Replay(FILED_AT + timedelta(minutes=1), 1.0, time.time())
        env = daemon_env(workdir, feeds, slack)
        cold = DaemonProcess(env, workdir / "cold.log", args=replay.args())
        began = time.monotonic()
        cold.start()
        try:
            cold.wait_started(timeout=60)
            figures["cold_start"] = time.monotonic() - began
            latencies: list[float] = []
            for index in range(RULES):
                number = f"2019-{22210 + index * 101}"
                filed = time.monotonic()
                file_rule(feeds, number)
                wait_for(f"the card of {number}", partial(card_for, slack, number), timeout=30, interval=0.02)
                latencies.append(time.monotonic() - filed)
                time.sleep(0.3)
            figures["latency"] = latencies
            _, figures["stop_idle"] = cold.terminate()
        finally:
            cold.stop_quietly()
        warm = DaemonProcess(env, workdir / "warm.log", args=replay.args())
        began = time.monotonic()
        warm.start()
        try:
            warm.wait_started(timeout=60)
            figures["warm_start"] = time.monotonic() - began
        finally:
            warm.stop_quietly()
    with FeedServer(workdir / "stuck", hang_seconds=60) as feeds:
        quiet_feeds(feeds)
        feeds.outage(("timeout",))
        env = daemon_env(workdir / "stuck", feeds, None, MONITOR_NETWORK__TIMEOUT_SECONDS="50")
        stuck = DaemonProcess(env, workdir / "stuck.log")
        stuck.start()
        try:
            stuck.wait_started(timeout=60)
            wait_for("a hanging poll", lambda: feeds.count("current.json") >= 1, timeout=20)
            _, figures["stop_stuck"] = stuck.terminate()
        finally:
            stuck.stop_quietly()
    return figures


def quiet_poll_ms(workdir: Path) -> float:
    """One routine public-inspection poll through the runner: lease, HTTP, feed state, metrics (median, ms)."""
    saved = workdir / "saved"
    shutil.copytree(RULE_DIR, saved)
    engine = make_engine(f"sqlite:///{workdir / 'quiet.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    settings = Settings(data_dir=workdir, prices={"source": f"dir:{PRICES}"})
    clock = SimulatedClock(FILED_AT + timedelta(hours=3))
    stop = threading.Event()
    calendars = calendars_from_settings(settings)
    poller = build_poller(settings, sessions, clock, build_clients(settings, source=f"dir:{saved}"))
    pipeline = Pipeline(sessions, settings, clock, calendars=calendars, price_source=CsvDirectorySource(PRICES))
    tasks = DaemonTasks(
        sessions=sessions,
        clock=clock,
        pipeline=pipeline,
        poller=poller,
        worker=DeliveryWorker(sessions, {}, settings=settings, clock=clock),
        closes=CloseWatch(calendars, margin_minutes=30),
        stop=stop,
        batch_size=50,
    )
    runner = JobRunner(LeaseKeeper(sessions, ttl=timedelta(seconds=60)), stop)
    spec = JobSpec("poll_pi", lambda: tasks.poll(FeedName.PUBLIC_INSPECTION), lease="poll_pi")
    runner.run(spec)  # first poll: the empty issue's cursor is stored
    timings = []
    for _ in range(30):
        began = time.perf_counter()
        runner.run(spec)
        timings.append(time.perf_counter() - began)
    engine.dispose()
    return statistics.median(timings) * 1000


def main() -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        figures = process_figures(workdir / "process")
        (workdir / "quiet").mkdir()
        quiet = quiet_poll_ms(workdir / "quiet")
    latencies = figures["latency"]
    assert isinstance(latencies, list)

    def seconds(name: str) -> float:
        value = figures[name]
        assert isinstance(value, float)
        return value

    measured = [
        ("start-up to /healthz, fresh SQLite (migrate, seed)", seconds("cold_start"), "s", 10.0),
        ("start-up to /healthz, existing database (re-checks recent rules)", seconds("warm_start"), "s", 5.0),
        (f"filing → card accepted by Slack, median of {RULES} (PI every 1 s)", statistics.median(latencies), "s", 6.0),
        (f"filing → card accepted by Slack, worst of {RULES}", max(latencies), "s", 6.0),
        ("routine public-inspection poll job (lease, HTTP, feed state)", quiet, "ms", 100.0),
        ("SIGTERM → exit, idle", seconds("stop_idle"), "s", 10.0),
        ("SIGTERM → exit, a poll stuck on the network", seconds("stop_stuck"), "s", 10.0),
    ]
    rows = [
        Row(measure, f"{value:.{2 if unit == 's' else 1}f} {unit}", f"< {limit:g} {unit}", value < limit)
        for measure, value, unit, limit in measured
    ]
    raise SystemExit(0 if report("monitor run", rows) else 1)


if __name__ == "__main__":
    main()
