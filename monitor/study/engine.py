"""The event study of one event: every security estimated, cumulated and tested in one vectorised pass.

``run_event(series, params)`` is the whole engine. It aligns the securities by event time (each on its own
exchange's sessions), fits the normal-return model over ``[τ1−gap−L1, τ1−gap−1]``, measures the event window and the
standard sub-windows, and tests the cross-section (§1.5) with the dependence-robust statistics our clustered event
dates need. No I/O: the pipeline (``monitor.pipeline.studies``) builds the inputs and stores the results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.models import StudyStatus
from monitor.study.inputs import BoolArray, EventPanel, SecuritySeries, build_panel
from monitor.study.normal import Fit, fit
from monitor.study.params import StudyParams, window_label
from monitor.study.placebo import placebo_test
from monitor.study.records import security_records
from monitor.study.results import (
    AarDay,
    Aggregate,
    EventResult,
    clean,
)
from monitor.study.statistics import CrossSection, windows_tests
from monitor.study.windows import EventRows, WindowArrays, measure_all


def run_event(series: Sequence[SecuritySeries], params: StudyParams) -> EventResult:
    """Study one event for all of its securities (each with its own day 0, calendar and benchmark)."""
    first, last = params.window
    est_first, est_last = params.estimation_range
    lookback = params.placebo_lookback if params.placebo_draws else 0
    panel = build_panel(series, est_first - lookback, last, extend=params.max_halt_extension)

    est = slice(panel.row(est_first), panel.row(est_last) + 1)
    regressor = panel.regressor(params.model)
    model = fit(params.model, panel.ret[est], regressor[est], panel.span[est], panel.valid[est])
    evt = slice(panel.row(first), None)
    rows = EventRows.build(
        model,
        panel.rel[evt],
        panel.valid[evt],
        panel.present[evt],
        panel.ret[evt],
        panel.bench[evt],
        regressor[evt],
        panel.span[evt],
    )
    main, *rest = measure_all(rows, model, [params.window, *params.windows_in_range])
    subs = {window_label(arrays.window): arrays for arrays in rest}

    statuses, reasons = _statuses(panel, model, main, params)
    used = np.array([s in (StudyStatus.COMPLETE, StudyStatus.PARTIAL) for s in statuses], dtype=bool) & main.has
    aggregate = _aggregate(panel, model, rows, main, subs, used, params, est)
    securities = security_records(panel, model, rows, main, subs, statuses, reasons, params)
    return EventResult(params=params, securities=securities, aggregate=aggregate)


def _statuses(
    panel: EventPanel, model: Fit, main: WindowArrays, params: StudyParams
) -> tuple[list[StudyStatus], list[str | None]]:
    est_first, est_last = params.estimation_range
    fit_problems = model.problems(params.min_estimation, est_first, est_last)
    statuses: list[StudyStatus] = []
    reasons: list[str | None] = []
    for i in range(panel.n):
        problem = panel.problem[i]
        if problem is not None:
            statuses.append(StudyStatus.PENDING if panel.waiting[i] else StudyStatus.INSUFFICIENT_DATA)
            reasons.append(problem)
        elif fit_problems[i] is not None:
            statuses.append(StudyStatus.INSUFFICIENT_DATA)
            reasons.append(fit_problems[i])
        elif not main.has[i]:
            statuses.append(StudyStatus.PENDING)
            reasons.append("no event-window return yet")
        elif main.complete[i]:
            statuses.append(StudyStatus.COMPLETE)
            reasons.append(None)
        else:
            statuses.append(StudyStatus.PARTIAL)
            reasons.append("the event window is not over yet, or a halt has not ended")
    return statuses, reasons


def _aggregate(
    panel: EventPanel,
    model: Fit,
    rows: EventRows,
    main: WindowArrays,
    subs: dict[str, WindowArrays],
    used: BoolArray,
    params: StudyParams,
    est: slice,
) -> Aggregate:
    first, last = params.window
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = model.residuals / np.sqrt(panel.span[est])
        scores = np.where(main.mask, rows.ar / np.sqrt(rows.span), np.nan)
    cross = CrossSection.build(scaled, scores, model.residuals, used, panel.dates[est])

    def rank_rows(window: tuple[int, int]) -> slice:
        return slice(rows.row(window[0]), rows.row(window[1]) + 1)

    every = [main, *subs.values()]
    tests, *sub_tests = windows_tests(
        [arrays.window for arrays in every],
        np.stack([arrays.car for arrays in every]),
        np.stack([arrays.variance for arrays in every]),
        np.stack([arrays.sessions for arrays in every]),
        model.df,
        np.stack([used & arrays.has for arrays in every]),
        cross,
        [rank_rows(arrays.window) for arrays in every],
    )
    day_rows = slice(rows.row(first), rows.row(last) + 1)
    aar = _aar(rows, used, day_rows)
    day0 = rows.row(0)
    return Aggregate(
        n=tests.n,
        caar=tests.caar,
        aar=aar,
        tests=tests,
        rank_z_day0=cross.rank_z(slice(day0, day0 + 1)),
        sub_windows=dict(zip(subs, sub_tests, strict=True)),
        placebo=placebo_test(panel, params, used, tests.caar),
    )


def _aar(rows: EventRows, used: BoolArray, day_rows: slice) -> tuple[AarDay, ...]:
    """AAR per event day over the securities with a return ending that day (halted ones sit the day out)."""
    ar = np.where(used[None, :], rows.ar[day_rows], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        sar = ar / np.sqrt(rows.ar_variance[day_rows])
        n = np.isfinite(ar).sum(axis=1)
        mean = np.nansum(ar, axis=1) / n
        sd = np.sqrt(np.nansum((ar - mean[:, None]) ** 2, axis=1) / (n - 1))
        t = mean / (sd / np.sqrt(n))
        smean = np.nansum(sar, axis=1) / n
        ssd = np.sqrt(np.nansum((sar - smean[:, None]) ** 2, axis=1) / (n - 1))
        bmp = smean / (ssd / np.sqrt(n))
    rels = rows.rel[day_rows].tolist()
    return tuple(
        AarDay(
            rel_day=int(rel),
            aar=clean(m) if c else None,
            n=int(c),
            t=clean(tt) if c >= 2 else None,
            bmp_t=clean(bb) if c >= 2 else None,
        )
        for rel, m, c, tt, bb in zip(rels, mean.tolist(), n.tolist(), t.tolist(), bmp.tolist(), strict=True)
    )
