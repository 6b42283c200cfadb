"""The event study of one event: every security estimated, cumulated and tested in one vectorised pass.

``run_event(series, params)`` is the whole engine. It aligns the securities by event time (each on its own
exchange's sessions), fits the normal-return model over ``[τ1−gap−L1, τ1−gap−1]``, measures the event window and the
standard sub-windows, and tests the cross-section (§1.5) with the dependence-robust statistics our clustered event
dates need. No I/O: the runner (``monitor.study_runner``) builds the inputs and stores the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from monitor.models import StudyStatus
from monitor.study.inputs import BoolArray, EventPanel, SecuritySeries, build_panel
from monitor.study.normal import Fit, fit
from monitor.study.params import StudyParams, window_label
from monitor.study.placebo import placebo_test
from monitor.study.results import (
    AarDay,
    Aggregate,
    DayResult,
    EventResult,
    SecurityResult,
    WindowCar,
    clean,
)
from monitor.study.statistics import CrossSection, window_tests
from monitor.study.windows import EventRows, WindowArrays, measure


def run_event(series: Sequence[SecuritySeries], params: StudyParams) -> EventResult:
    """Study one event for all of its securities (each with its own day 0, calendar and benchmark)."""
    first, last = params.window
    est_first, est_last = params.estimation_range
    lookback = params.placebo_lookback if params.placebo_draws else 0
    panel = build_panel(series, est_first - lookback, last + params.max_halt_extension)

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
    main = measure(rows, model, params.window)
    subs = {window_label(w): measure(rows, model, w) for w in params.windows_in_range}

    statuses, reasons = _statuses(panel, model, main, params)
    used = np.array([s in (StudyStatus.COMPLETE, StudyStatus.PARTIAL) for s in statuses], dtype=bool) & main.has
    aggregate = _aggregate(panel, model, rows, main, subs, used, params, est)
    securities = _securities(panel, model, rows, main, subs, statuses, reasons, params)
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
    cross = CrossSection.build(scaled, scores, model.residuals, used)

    def rank_rows(window: tuple[int, int]) -> slice:
        return slice(rows.row(window[0]), rows.row(window[1]) + 1)

    def tests_for(arrays: WindowArrays) -> Any:
        return window_tests(
            arrays.window,
            arrays.car,
            arrays.variance,
            arrays.sessions,
            model.df,
            used & arrays.has,
            cross,
            rank_rows(arrays.window),
        )

    tests = tests_for(main)
    day_rows = slice(rows.row(first), rows.row(last) + 1)
    aar = _aar(rows, used, day_rows)
    day0 = rows.row(0)
    return Aggregate(
        n=tests.n,
        caar=tests.caar,
        aar=aar,
        tests=tests,
        rank_z_day0=cross.rank_z(slice(day0, day0 + 1)),
        sub_windows={label: tests_for(arrays) for label, arrays in subs.items()},
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


def _securities(
    panel: EventPanel,
    model: Fit,
    rows: EventRows,
    main: WindowArrays,
    subs: dict[str, WindowArrays],
    statuses: list[StudyStatus],
    reasons: list[str | None],
    params: StudyParams,
) -> tuple[SecurityResult, ...]:
    """Plain per-security records (the only per-security Python loop: building output objects)."""
    first, last = params.window
    evt_first = panel.row(first)
    dates: list[list[date | None]] = panel.dates[evt_first:].T.astype(object).tolist()
    with np.errstate(invalid="ignore", divide="ignore"):
        ar_t = rows.ar / np.sqrt(rows.ar_variance)
    running = np.cumsum(np.where(main.mask, rows.ar, 0.0), axis=0)
    cols = {
        "ret": rows.ret.T.tolist(),
        "bench": rows.bench.T.tolist(),
        "ar": rows.ar.T.tolist(),
        "t": ar_t.T.tolist(),
        "car": np.where(main.mask, running, np.nan).T.tolist(),
        "span": rows.span.astype(np.int64).T.tolist(),
        "halted": panel.halted[evt_first:].T.tolist(),
        "present": rows.present.T.tolist(),
    }
    last_present = np.where(rows.present.any(axis=0), rows.present.shape[0] - 1 - np.argmax(rows.present[::-1], 0), -1)
    day0_row = rows.row(0)
    reaction_rows = rows.next_valid[day0_row].tolist()
    rels = rows.rel.tolist()
    out: list[SecurityResult] = []
    for i, symbol in enumerate(panel.symbols):
        status = statuses[i]
        usable = status in (StudyStatus.COMPLETE, StudyStatus.PARTIAL)
        complete = status == StudyStatus.COMPLETE
        shown = int(main.last_row[i]) if complete else min(rows.row(last), int(last_present[i]))
        days = tuple(
            DayResult(
                rel_day=rels[r],
                date=dates[i][r],
                ret=clean(cols["ret"][i][r]),
                benchmark_return=clean(cols["bench"][i][r]),
                ar=clean(cols["ar"][i][r]) if usable else None,
                ar_t=clean(cols["t"][i][r]) if usable else None,
                car=clean(cols["car"][i][r]) if usable else None,
                sessions=int(cols["span"][i][r]),
                halted=bool(cols["halted"][i][r]) and bool(cols["present"][i][r]),
            )
            for r in range(shown + 1)
        )
        reaction = reaction_rows[i] if usable and reaction_rows[i] < len(rels) else None
        fitted = status != StudyStatus.INSUFFICIENT_DATA and panel.problem[i] is None
        out.append(
            SecurityResult(
                symbol=symbol,
                benchmark=panel.benchmarks[i],
                day0=_day(panel.day0[i]),
                status=status.value,
                reason=reasons[i],
                alpha=clean(model.alpha[i]) if fitted and params.model != "market-adjusted" else None,
                beta=clean(model.beta[i]) if fitted and params.model == "market" else None,
                sigma=clean(float(np.sqrt(model.s2[i]))) if fitted else None,
                n_estimation=int(model.n[i]) if panel.problem[i] is None else None,
                df=int(model.df[i]) if fitted else None,
                car=clean(main.car[i]) if usable else None,
                car_variance=clean(main.variance[i]) if usable else None,
                car_t=clean(main.t[i]) if usable else None,
                car_p=clean(main.p[i]) if usable else None,
                bhar=clean(main.bhar[i]) if usable else None,
                day0_halted=usable and reaction is not None and reaction != day0_row,
                reaction_day=rels[reaction] if reaction is not None else None,
                reaction_date=dates[i][reaction] if reaction is not None else None,
                through_date=_last_date(dates[i], main, i) if usable else None,
                days=days,
                sub_windows={label: _window_car(arrays, i, rels) for label, arrays in subs.items()} if usable else {},
            )
        )
    return tuple(out)


def _last_date(dates: list[date | None], main: WindowArrays, i: int) -> date | None:
    included = np.flatnonzero(main.mask[:, i])
    return dates[int(included[-1])] if len(included) else None


def _window_car(arrays: WindowArrays, i: int, rels: list[int]) -> WindowCar:
    has = bool(arrays.has[i])
    return WindowCar(
        window=arrays.window,
        first=int(arrays.first[i]) if has else None,
        last=rels[int(arrays.last_row[i])] if has else None,
        car=clean(arrays.car[i]),
        variance=clean(arrays.variance[i]),
        t=clean(arrays.t[i]),
        p_value=clean(arrays.p[i]),
        bhar=clean(arrays.bhar[i]),
        complete=bool(arrays.complete[i]),
    )


def _day(value: np.datetime64) -> date | None:
    if np.isnat(value):
        return None
    day: date = value.astype(object)
    return day
