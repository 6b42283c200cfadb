"""The schedule declared from settings, and waking a job early."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from jobs.leasing import LeaseKeeper
from jobs.runner import JobResult, JobRunner, JobSpec
from jobs.scheduler import CSL_FIRST_RUN_WINDOW, Waker, build_scheduler, describe, plan
from jobs.tasks import DaemonTasks
from jobs.triggers import PublicInspectionTrigger
from monitor.clock import SimulatedClock
from monitor.config import Settings

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SIM = SimulatedClock(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))  # 10:00 ET, between posting times


class Recorder:
    """Stands in for DaemonTasks: records which body ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def body(*args: object, **kwargs: object) -> JobResult:
            self.calls.append(name if not args else f"{name}:{args[0]}")
            return JobResult()

        return body


def planned(settings: Settings, tasks: Recorder | None = None) -> list[Any]:
    return plan(
        settings, SIM, cast(DaemonTasks, tasks or Recorder()), heartbeat=lambda: None, now=NOW, rng=random.Random(7)
    )


def test_every_job_in_pipeline_order_with_its_lease() -> None:
    jobs = planned(Settings())
    assert [(p.spec.name, p.spec.lease) for p in jobs] == [
        ("poll_pi", "poll_pi"),
        ("poll_fr", "poll_fr"),
        ("poll_csl", "poll_csl"),
        ("refresh_prices", "refresh_prices"),
        ("update_studies", "update_studies"),
        ("deliver_alerts", "deliver_alerts"),
        ("heartbeat", None),
    ]
    by_name = {p.spec.name: p for p in jobs}
    assert isinstance(by_name["poll_pi"].trigger, PublicInspectionTrigger)
    fr = by_name["poll_fr"].trigger
    assert isinstance(fr, IntervalTrigger)
    assert fr.interval == timedelta(seconds=300)
    assert cast(IntervalTrigger, by_name["deliver_alerts"].trigger).interval == timedelta(seconds=5)
    assert cast(IntervalTrigger, by_name["poll_csl"].trigger).interval == timedelta(hours=3)
    assert all(p.first_run == NOW for p in jobs if p.spec.name != "poll_csl")
    assert NOW <= by_name["poll_csl"].first_run <= NOW + CSL_FIRST_RUN_WINDOW  # a random minute, not on the hour
    assert "poll_pi (every 10s, every 2s from 2 min before to 15 min after each posting time)" in describe(jobs)


def test_polls_keep_their_lease_for_half_a_step() -> None:
    by_name = {p.spec.name: p.spec for p in planned(Settings())}
    assert by_name["poll_fr"].cooldown() == timedelta(seconds=150)
    assert by_name["poll_pi"].cooldown() == timedelta(seconds=5)  # half of the 10 s step (a Saturday: no burst)
    assert by_name["deliver_alerts"].cooldown is None


def test_feeds_can_be_left_out_and_bodies_are_wired() -> None:
    tasks = Recorder()
    jobs = planned(Settings(daemon={"feeds": ["pi"]}), tasks)
    assert [p.spec.name for p in jobs][:2] == ["poll_pi", "refresh_prices"]
    for job in jobs:
        job.spec.body()
    assert tasks.calls == ["poll:pi", "refresh_prices", "update_studies", "deliver"]


def test_scheduler_defaults_make_a_missed_run_happen_once(sessions: sessionmaker[Session]) -> None:
    runner = JobRunner(LeaseKeeper(sessions, ttl=timedelta(seconds=30)), threading.Event())
    scheduler = build_scheduler(planned(Settings()), runner, Settings(daemon={"misfire_grace_seconds": 600}))
    scheduler.start(paused=True)  # job defaults are applied when the scheduler takes the jobs
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "poll_pi",
        "poll_fr",
        "poll_csl",
        "refresh_prices",
        "update_studies",
        "deliver_alerts",
        "heartbeat",
    }
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 600)
        assert job.func == runner.run
        assert isinstance(job.args[0], JobSpec)
    assert str(scheduler.timezone) == "UTC"


def test_waking_runs_a_job_now_unless_it_is_running(sessions: sessionmaker[Session]) -> None:
    runner = JobRunner(LeaseKeeper(sessions, ttl=timedelta(seconds=30)), threading.Event())
    ran = threading.Event()
    spec = JobSpec("deliver_alerts", lambda: ran.set() or JobResult())
    scheduler = build_scheduler([], runner, Settings())
    scheduler.add_job(runner.run, IntervalTrigger(hours=1), args=[spec], id="deliver_alerts")
    waker = Waker(runner)
    waker("deliver_alerts")  # before the scheduler is attached: nothing happens
    waker.scheduler = scheduler
    scheduler.start()
    try:
        waker("no_such_job")
        assert not ran.wait(0.3)  # next run is an hour away
        waker("deliver_alerts")
        assert ran.wait(5)
    finally:
        scheduler.shutdown(wait=True)
    waker("deliver_alerts")  # after shutdown: ignored


def test_a_tick_dropped_behind_a_long_run_is_counted_not_logged_as_a_warning(sessions: sessionmaker[Session]) -> None:
    from monitor import metrics

    def overlapped() -> float:
        labels = {"job": "t_long", "outcome": "overlapped"}
        return float(metrics.REGISTRY.get_sample_value("monitor_job_runs_total", labels) or 0)

    runner = JobRunner(LeaseKeeper(sessions, ttl=timedelta(seconds=30)), threading.Event())
    release = threading.Event()

    def long_run() -> JobResult:
        release.wait(5)
        return JobResult()

    spec = JobSpec("t_long", long_run)
    scheduler = build_scheduler([], runner, Settings())
    before = overlapped()
    scheduler.add_job(runner.run, IntervalTrigger(seconds=0.1), args=[spec], id="t_long")
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while overlapped() == before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert overlapped() > before
