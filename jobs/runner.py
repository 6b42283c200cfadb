"""What every scheduled job goes through: the stop flag, the lease, timing, metrics, one log line, no crash.

A job body is a plain function returning a short summary. ``JobRunner.run`` skips it when the daemon is stopping
or another replica holds its lease, times it, counts the outcome (``monitor_job_runs_total``), logs one line, and
turns every exception into a ``failed`` outcome so the scheduler simply runs it again next time. Our own errors
(a feed down, a sink failing) and database errors (a restart, a failover) are logged as one line; anything else
is a bug and is logged with its traceback.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError

from jobs.leasing import LeaseKeeper
from monitor import metrics
from monitor.db.engine import short_reason
from monitor.errors import MonitorError, StorageError
from monitor.logs import get_logger

log = get_logger(__name__)

Outcome = Literal["ok", "skipped", "failed", "abandoned"]


class StopRequested(Exception):
    """The daemon is shutting down: the job abandons the rest of its work (what it wrote so far is committed)."""


@dataclass(frozen=True)
class JobResult:
    """A body's summary; ``noteworthy`` runs log at INFO, routine ones (nothing new) at DEBUG."""

    summary: Mapping[str, Any] = field(default_factory=dict)
    noteworthy: bool = False


@dataclass(frozen=True)
class JobSpec:
    name: str
    body: Callable[[], JobResult]
    lease: str | None = None  # jobs that must run on one replica at a time
    cooldown: Callable[[], timedelta | None] | None = None  # keep the lease this long after a run


@dataclass(frozen=True)
class RunRecord:
    """How a job's last run went; ``summary`` is its body's (what it did), ``seconds`` how long it took (None when
    it never started: skipped)."""

    outcome: Outcome
    error: MonitorError | None = None
    detail: str = ""
    summary: Mapping[str, Any] = field(default_factory=dict)
    seconds: float | None = None


class JobRunner:
    def __init__(self, keeper: LeaseKeeper, stop: threading.Event) -> None:
        self.keeper = keeper
        self.stop = stop
        self.last: dict[str, RunRecord] = {}
        self._running: set[str] = set()
        self._idle = threading.Condition()

    def run(self, spec: JobSpec) -> Outcome:
        if self.stop.is_set():
            return self._record(spec.name, RunRecord("skipped", detail="stopping"))
        with self._idle:
            self._running.add(spec.name)
        started = time.monotonic()
        try:
            record = self._attempt(spec, started)
        finally:
            with self._idle:
                self._running.discard(spec.name)
                self._idle.notify_all()
        return self._record(spec.name, record)

    def _attempt(self, spec: JobSpec, started: float) -> RunRecord:
        try:
            if spec.lease is None:
                return self._body(spec, started)
            cooldown = spec.cooldown() if spec.cooldown is not None else None
            with self.keeper.hold(spec.lease, cooldown=cooldown) as lease:
                if lease is None:
                    log.debug("job_skipped", job=spec.name, reason="lease held by another replica")
                    return RunRecord("skipped", detail="lease held elsewhere")
                return self._body(spec, started)
        except StopRequested:
            log.warning("job_abandoned", job=spec.name, seconds=round(time.monotonic() - started, 3))
            return self._timed(spec.name, started, RunRecord("abandoned", detail="stopping"))
        except MonitorError as exc:
            log.error("job_failed", job=spec.name, error=str(exc), error_type=type(exc).__name__)
            return self._timed(spec.name, started, RunRecord("failed", exc, str(exc)))
        except SQLAlchemyError as exc:  # the database is down or restarting: an operational state, not a bug
            error = StorageError(f"database error: {short_reason(exc)}")
            log.error("job_failed", job=spec.name, error=str(error), error_type=type(exc).__name__)
            return self._timed(spec.name, started, RunRecord("failed", error, str(error)))
        except Exception as exc:  # a bug or an unexpected library error: log it whole, run again next time
            log.exception("job_crashed", job=spec.name, error=f"{type(exc).__name__}: {exc}")
            return self._timed(spec.name, started, RunRecord("failed", None, f"{type(exc).__name__}: {exc}"))

    def _body(self, spec: JobSpec, started: float) -> RunRecord:
        result = spec.body()
        seconds = round(time.monotonic() - started, 3)
        (log.info if result.noteworthy else log.debug)("job_done", job=spec.name, seconds=seconds, **result.summary)
        return self._timed(spec.name, started, RunRecord("ok", summary=dict(result.summary)))

    def _timed(self, name: str, started: float, record: RunRecord) -> RunRecord:
        seconds = time.monotonic() - started
        metrics.job_duration.labels(job=name).observe(seconds)
        return dataclasses.replace(record, seconds=round(seconds, 3))

    def _record(self, name: str, record: RunRecord) -> Outcome:
        metrics.job_runs.labels(job=name, outcome=record.outcome).inc()
        self.last[name] = record
        return record.outcome

    def is_running(self, name: str) -> bool:
        with self._idle:
            return name in self._running

    def wait_idle(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds for running jobs to finish; returns those still running."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._idle.wait(remaining)
            return sorted(self._running)
