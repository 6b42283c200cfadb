"""The schedule, declared from settings at start: APScheduler 3 with in-memory jobs (durable state is in our
tables, never in a pickled job store), one thread per job, ``max_instances=1``, ``coalesce=True`` and a generous
``misfire_grace_time`` so a run delayed by a busy pool or a suspended host still happens, once.

=================  =========================================================  =====================================
job                when                                                       lease (one replica at a time)
=================  =========================================================  =====================================
poll_pi            ``poll.public_inspection_seconds``; every                  ``poll_pi``, kept half a step after a
                   ``public_inspection_burst_seconds`` for ``burst_minutes``  run so replicas take turns
                   after each Federal Register posting time
poll_fr            ``poll.documents_seconds``                                 ``poll_fr``, likewise
poll_csl           ``poll.csl_hours``, first at a random minute of the hour   ``poll_csl``, likewise
refresh_prices     ``daemon.close_check_seconds``: refreshes an exchange's    ``refresh_prices``
                   securities once one of its sessions has closed
update_studies     ``poll.studies_seconds`` (and right after a refresh)       ``update_studies``
deliver_alerts     ``poll.outbox_seconds`` (and right after new alerts)       ``deliver_alerts``
heartbeat          every few seconds: /healthz knows the scheduler runs       none
=================  =========================================================  =====================================
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.runner import JobResult, JobRunner, JobSpec
from jobs.tasks import DELIVER, HEARTBEAT, POLL_JOBS, REFRESH_PRICES, UPDATE_STUDIES, DaemonTasks
from jobs.triggers import PublicInspectionTrigger, public_inspection_step
from monitor import metrics
from monitor.clock import Clock, clock_speed
from monitor.config import Settings
from monitor.logs import get_logger
from monitor.models import FeedName

log = get_logger(__name__)

HEARTBEAT_SECONDS = 5.0
CSL_FIRST_RUN_WINDOW = timedelta(hours=1)  # the CSL's first poll lands at a random moment of this window


@dataclass(frozen=True)
class Planned:
    spec: JobSpec
    trigger: BaseTrigger
    first_run: datetime | None  # None: when the trigger first fires


def plan(
    settings: Settings,
    clock: Clock,
    tasks: DaemonTasks,
    *,
    heartbeat: Callable[[], None],
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> list[Planned]:
    """Every job of the daemon, in the order ``--once`` runs them."""
    now = now or datetime.now(UTC)
    rng = rng or random.Random()
    poll = settings.poll
    feeds = [FeedName(feed) for feed in settings.daemon.feeds]
    jobs: list[Planned] = []

    def turn(seconds: float) -> Callable[[], timedelta]:
        return lambda: timedelta(seconds=seconds / 2)

    def poller(feed: FeedName) -> Callable[[], JobResult]:
        return lambda: tasks.poll(feed)

    if FeedName.PUBLIC_INSPECTION in feeds:

        def pi_turn() -> timedelta:
            step = public_inspection_step(clock.now(), poll, speed=clock_speed(clock))
            return timedelta(seconds=step / 2)

        job = POLL_JOBS[FeedName.PUBLIC_INSPECTION]
        spec = JobSpec(job, poller(FeedName.PUBLIC_INSPECTION), lease=job, cooldown=pi_turn)
        jobs.append(Planned(spec, PublicInspectionTrigger(poll, clock), now))
    if FeedName.DOCUMENTS in feeds:
        job = POLL_JOBS[FeedName.DOCUMENTS]
        spec = JobSpec(job, poller(FeedName.DOCUMENTS), lease=job, cooldown=turn(poll.documents_seconds))
        jobs.append(Planned(spec, IntervalTrigger(seconds=poll.documents_seconds, timezone=UTC), now))
    if FeedName.CSL in feeds:
        job = POLL_JOBS[FeedName.CSL]
        seconds = poll.csl_hours * 3600
        first = now + timedelta(seconds=rng.uniform(0, min(seconds, CSL_FIRST_RUN_WINDOW.total_seconds())))
        spec = JobSpec(job, poller(FeedName.CSL), lease=job, cooldown=turn(seconds))
        jobs.append(Planned(spec, IntervalTrigger(seconds=seconds, timezone=UTC), first))
    close_check = settings.daemon.close_check_seconds
    jobs.append(
        Planned(
            JobSpec(REFRESH_PRICES, tasks.refresh_prices, lease=REFRESH_PRICES),
            IntervalTrigger(seconds=close_check, timezone=UTC),
            now,
        )
    )
    jobs.append(
        Planned(
            JobSpec(UPDATE_STUDIES, tasks.update_studies, lease=UPDATE_STUDIES),
            IntervalTrigger(seconds=poll.studies_seconds, timezone=UTC),
            now,
        )
    )
    jobs.append(
        Planned(
            JobSpec(DELIVER, tasks.deliver, lease=DELIVER),
            IntervalTrigger(seconds=poll.outbox_seconds, timezone=UTC),
            now,
        )
    )

    def beat() -> JobResult:
        heartbeat()
        return JobResult()

    jobs.append(
        Planned(
            JobSpec(HEARTBEAT, beat),
            IntervalTrigger(seconds=min(HEARTBEAT_SECONDS, poll.outbox_seconds), timezone=UTC),
            now,
        )
    )
    return jobs


def build_scheduler(planned: list[Planned], runner: JobRunner, settings: Settings) -> BackgroundScheduler:
    # Our runner logs each run and _on_skipped_run each dropped tick; APScheduler's own lines would double them.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        timezone=ZoneInfo("UTC"),
        executors={"default": ThreadPoolExecutor(max_workers=len(planned) + 1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.daemon.misfire_grace_seconds,
        },
    )
    scheduler.add_listener(_on_skipped_run, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    for item in planned:
        options: dict[str, Any] = {}
        if item.first_run is not None:
            options["next_run_time"] = item.first_run
        scheduler.add_job(
            runner.run,
            item.trigger,
            args=[item.spec],
            id=item.spec.name,
            name=item.spec.name,
            replace_existing=True,
            **options,
        )
    return scheduler


def _on_skipped_run(event: JobEvent) -> None:
    """A tick dropped because the previous run still goes on (normal when a poll is retrying), or a run missed by
    more than ``daemon.misfire_grace_seconds`` (the host was suspended): counted, and logged once each."""
    if event.code == EVENT_JOB_MAX_INSTANCES:
        metrics.job_runs.labels(job=event.job_id, outcome="overlapped").inc()
        log.debug("job_tick_dropped", job=event.job_id, reason="previous run still running")
    else:
        metrics.job_runs.labels(job=event.job_id, outcome="missed").inc()
        scheduled = getattr(event, "scheduled_run_time", None)
        log.warning("job_run_missed", job=event.job_id, scheduled=str(scheduled))


def describe(planned: list[Planned]) -> str:
    return "; ".join(f"{item.spec.name} ({item.trigger})" for item in planned if item.spec.name != HEARTBEAT)


class Waker:
    """Runs a job now instead of at its next tick (new alerts → deliver them), unless it is running already."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.scheduler: BackgroundScheduler | None = None

    def __call__(self, job_id: str) -> None:
        scheduler = self.scheduler
        if scheduler is None or self.runner.is_running(job_id):
            return
        try:
            scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        except (JobLookupError, SchedulerNotRunningError):  # not scheduled (--once), or shutting down
            return
