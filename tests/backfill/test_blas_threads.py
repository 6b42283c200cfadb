"""The backfill runs BLAS on one thread (the engine's small matrix products only lose from threading), and gives
the caller's thread setting back when it ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker
from threadpoolctl import threadpool_info, threadpool_limits

from monitor.backfill import Backfill, BackfillRequest
from monitor.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.pipeline import Pipeline, PipelineOptions
from monitor.prices.calendars import calendars_from_settings
from tests.backfill.conftest import SINCE, UNTIL


def _blas_threads() -> set[int]:
    return {int(info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas"}


def test_blas_runs_on_one_thread_during_the_backfill_only(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    assert np.ones((2, 2)) @ np.ones((2, 2)) is not None  # numpy's BLAS is loaded
    settings = Settings(data_dir=tmp_path)
    calendars = calendars_from_settings(settings)
    seen: list[set[int]] = []

    def pipeline(clock: Clock, options: PipelineOptions) -> Pipeline:
        seen.append(_blas_threads())
        return Pipeline(sessions, settings, clock, calendars=calendars, price_source=None, options=options)

    backfill = Backfill(
        sessions,
        settings,
        calendars=calendars,
        poller=None,
        federal_register=None,
        price_source=None,
        clock=SystemClock(),
        pipeline=pipeline,
    )
    with threadpool_limits(limits=2, user_api="blas"):  # what a 2-core machine starts with
        summary = backfill.run(BackfillRequest(SINCE, UNTIL, search=False, filing_lookup=False))
        after = _blas_threads()
    assert summary.rules == 0
    assert seen == [{1}]
    assert after == {2}
