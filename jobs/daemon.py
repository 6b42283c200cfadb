"""``monitor run``: start-up checks, the scheduler, the health endpoint, and a shutdown that never hangs.

Lifecycle. ``start`` checks the database, the universe, the calendars and Slack (one line each), takes the SQLite
instance lock, clears leases a crashed predecessor on this host left behind, and runs the pipeline over documents
it may not have finished. ``serve`` warms the pipelines in the background (match index, name spotter, calendars:
the first filing's card must not pay for them) and runs the schedule until SIGTERM or SIGINT: no new job starts,
running jobs get ``daemon.shutdown_grace_seconds`` to finish (their loops and retry pauses check the stop flag, so
most stop within a second), and if one still runs (a slow HTTP call) the process exits anyway. That is safe by
design: every write is transactional, and the outbox recovers a delivery interrupted between Slack's answer and our
commit.
A second signal exits at once. ``once`` runs every job a single time, in pipeline order, and exits with a code
that says how it went (for cron and Kubernetes CronJobs).

Clocks. The pipeline, the pollers and the outbox run on the daemon's clock (the system clock, or a
``monitor.clock.ReplayClock``); leases, HTTP timeouts and the scheduler's intervals use the wall clock.

Parts. The daemon builds nothing itself: ``monitor.commands.compose`` hands it ``build`` (what turns settings,
storage and calendars into the pipelines, poller, delivery worker and probes) and the Slack client factory for the
start-up check, so ``jobs/`` never imports ``alerts/``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from jobs.checks import SlackClientFactory, StartupCheck, calendars_check, database_check, slack_check, universe_check
from jobs.health import Probes
from jobs.instance_lock import InstanceLock
from jobs.runner import JobResult, JobRunner, JobSpec, RunRecord
from jobs.scheduler import Waker, build_scheduler, describe, plan
from jobs.tasks import DaemonTasks
from monitor.bootstrap import AppContext
from monitor.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.errors import ConfigError, MonitorError, TransientError
from monitor.logs import get_logger
from monitor.prices.calendars import Calendars

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from jobs.http_server import HealthServer

log = get_logger(__name__)

Report = Callable[[StartupCheck], None]


class Closeable(Protocol):
    def close(self) -> None: ...


@dataclass
class DaemonParts:
    """What the daemon runs, built by the composition root (``monitor.commands.compose.daemon_parts``)."""

    tasks: DaemonTasks
    runner: JobRunner
    clients: Closeable  # the feed clients: closed when the daemon stops
    probes: Probes
    waker: Waker


class BuildParts(Protocol):
    def __call__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        calendars: Calendars,
        clock: Clock,
        stop: threading.Event,
        scheduler_alive: Callable[[], bool],
    ) -> DaemonParts: ...


class Daemon:
    def __init__(
        self,
        context: AppContext,
        *,
        clock: Clock,
        build: BuildParts,
        slack_client: SlackClientFactory,
        report: Report | None = None,
    ) -> None:
        self.context = context
        self.settings = context.settings
        self.clock = clock
        self.build = build
        self.slack_client = slack_client
        self.report = report or _log_check
        self.stop = threading.Event()
        self.lock: InstanceLock | None = None
        self.checks: list[StartupCheck] = []
        self._parts: DaemonParts | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._server: HealthServer | None = None
        self._signals = 0
        self._stopped_by: int | None = None
        self._previous_handlers: dict[int, Any] = {}
        self.ran: dict[str, RunRecord] = {}  # ``once``: every job it ran, in order, the start-up catch-up first

    # --- start-up ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Checks (raising the first failure's error), then every component built; connects to nothing else."""
        self.lock = InstanceLock.for_database(self.settings.effective_database_url)
        if self.lock is not None:
            try:
                self.lock.acquire()
            except MonitorError as exc:
                self._check(StartupCheck("instance", "fail", str(exc), exc))
            self._check(StartupCheck("instance", "ok", f"sole daemon on this SQLite file (lock {self.lock.path})"))
        else:
            self._check(StartupCheck("instance", "ok", "shared database: replicas take turns through leases"))
        self._check(database_check(self.context.engine))
        sessions = self.context.sessions()
        self._check(universe_check(sessions, market=self.settings.matching.market_universe))
        from monitor.prices.calendars import calendars_from_settings

        calendars = calendars_from_settings(self.settings)
        for check in calendars_check(calendars, self.clock.now(), warn_days=self.settings.calendars.warn_days):
            self._check(check)
        self._check(slack_check(self.settings, self.slack_client))
        self._parts = self.build(self.settings, sessions, calendars, self.clock, self.stop, self._scheduler_alive)

    def _check(self, check: StartupCheck) -> None:
        self.checks.append(check)
        self.report(check)
        if check.level == "fail":
            raise check.error or MonitorError(check.line)

    @property
    def parts(self) -> DaemonParts:
        if self._parts is None:
            raise RuntimeError("Daemon.start() first")
        return self._parts

    def _warm_in_background(self) -> threading.Thread:
        """The match index, spotter and calendars built beside the first polls rather than inside the first alert
        (the pipeline's build lock makes an arrival that comes first wait for this build, never start another);
        /healthz answers meanwhile."""
        parts = self.parts
        thread = threading.Thread(
            target=parts.runner.run, args=(JobSpec("warm", parts.tasks.warm),), name="warm", daemon=True
        )
        thread.start()
        return thread

    def catch_up(self) -> None:
        """The pipeline over documents a crash may have left half done (see ``DaemonTasks.catch_up``)."""
        from monitor.pipeline import PipelineOptions

        recent = PipelineOptions().max_alert_age
        self.parts.runner.run(JobSpec("catch_up", lambda: self.parts.tasks.catch_up(recent=recent)))

    # --- running -----------------------------------------------------------------------------------------------

    def serve(self) -> int:
        """Run the schedule until a signal; returns the exit code."""
        from jobs.http_server import HealthServer

        parts = self.parts
        self._install_signal_handlers()
        address = self.settings.http.address
        if address:
            try:
                server = HealthServer(address, liveness=parts.probes.liveness, readiness=parts.probes.readiness)
            except OSError as exc:  # the port is taken (another daemon on this host?) or the address is not ours
                reason = exc.strerror or str(exc)
                raise ConfigError(f"cannot listen on {address}: {reason}", setting="http.address") from None
            self._server = server.start()
        self.catch_up()  # first: a restart's re-check builds what it needs itself, not beside a warm-up
        self._warm_in_background()
        planned = plan(self.settings, self.clock, parts.tasks, heartbeat=parts.probes.beat)
        scheduler = build_scheduler(planned, parts.runner, self.settings)
        self._scheduler = scheduler
        parts.waker.scheduler = scheduler
        scheduler.start()
        clock = "system" if isinstance(self.clock, SystemClock) else repr(self.clock)
        log.info("daemon_started", pid=os.getpid(), clock=clock, jobs=describe(planned))
        while not self.stop.wait(0.5):
            if not scheduler.running:
                log.error("scheduler_died")
                self.stop.set()
                self._shutdown()
                return 1
        return self._shutdown()

    def once(self) -> int:
        """Every job once, in pipeline order; 0 when all went well (or another replica had the work), 128 + the
        signal number when SIGTERM or SIGINT cut it short."""
        parts = self.parts
        self._install_signal_handlers()
        self.catch_up()
        self.ran = {"catch_up": parts.runner.last["catch_up"]}
        order: list[JobSpec] = [
            p.spec for p in plan(self.settings, self.clock, parts.tasks, heartbeat=parts.probes.beat)
        ]
        order = [spec for spec in order if spec.name != "heartbeat"]
        records: dict[str, RunRecord] = {}
        for spec in order:
            if spec.name == "refresh_prices":
                spec = JobSpec(spec.name, lambda: parts.tasks.refresh_prices(all_calendars=True), lease=spec.lease)
            parts.runner.run(spec)
            records[spec.name] = self.ran[spec.name] = parts.runner.last[spec.name]
            if self.stop.is_set():
                break
        for name, record in records.items():
            self.report(StartupCheck(name, "ok" if record.outcome != "failed" else "fail", _describe(record)))
        self.close()
        if self._stopped_by is not None:  # interrupted: what ran is committed, the rest waits for the next run
            return 128 + self._stopped_by
        return exit_code(records.values())

    # --- stopping ----------------------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        while self._previous_handlers:
            signum, handler = self._previous_handlers.popitem()
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals > 1:
            log.warning("shutdown_forced", signal=name)
            _exit_now(1)
        log.info("shutdown_requested", signal=name)
        self._stopped_by = signum
        self.stop.set()

    def _shutdown(self) -> int:
        grace = self.settings.daemon.shutdown_grace_seconds
        if self._scheduler is not None:
            try:
                self._scheduler.shutdown(wait=False)
            except Exception as exc:  # already stopped
                log.debug("scheduler_shutdown", error=str(exc))
        still_running = self.parts.runner.wait_idle(grace)
        if self._server is not None:
            self._server.stop()
            self._server = None
        if still_running:
            log.warning("shutdown_abandoning_jobs", jobs=still_running, grace_seconds=grace)
            self._release_lock()
            _exit_now(0)
        self.close()
        log.info("daemon_stopped")
        return 0

    def _scheduler_alive(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def _release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def close(self) -> None:
        if self._parts is not None:
            self._parts.clients.close()
        self.context.close()
        self._release_lock()
        self._restore_signal_handlers()


def exit_code(records: Iterable[RunRecord]) -> int:
    """0 when every job ran (or was skipped); else the most serious failure's code: 4 for a transient one
    (a feed or sink down: try again later), 1 for anything else."""
    codes = [
        (record.error.exit_code if record.error is not None else 1) for record in records if record.outcome == "failed"
    ]
    if not codes:
        return 0
    return min(codes, key=lambda code: (code == TransientError.exit_code, code))


def _describe(record: RunRecord) -> str:
    if record.outcome == "failed":
        return f"failed: {record.detail}"
    if record.outcome == "skipped":
        return f"skipped ({record.detail})"
    return record.outcome


def _log_check(check: StartupCheck) -> None:
    method = {"ok": log.info, "warn": log.warning, "fail": log.error}[check.level]
    method("startup_check", check=check.name, status=check.level, detail=check.detail)


def _exit_now(code: int) -> None:
    """Leave without waiting for threads stuck in I/O; flush what was logged first."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


__all__ = ["Daemon", "DaemonParts", "JobResult", "exit_code"]
