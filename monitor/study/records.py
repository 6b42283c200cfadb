"""Turning a batch's kept arrays into per-security result records, one event at a time, when a caller asks.

This is the one place with a loop over securities, and it only assembles objects: every number is already computed.
Arrays are converted column-wise (NaN becomes None in one vectorised step) so 500 securities take a few
milliseconds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from monitor.models import DAY_STATUSES, DayStatus, StudyStatus
from monitor.study.batch import Kept
from monitor.study.book import PROBLEMS
from monitor.study.params import StudyParams, window_label
from monitor.study.results import DayResult, SecurityResult, WindowCar
from monitor.study.statistics import two_sided_t
from monitor.study.status import FIT_OK, STATUSES, reason

USABLE = (StudyStatus.COMPLETE, StudyStatus.PARTIAL, StudyStatus.HALTED)
DAY_WORDS = [status.value for status in DAY_STATUSES]
HALTED, NO_DATA, SUSPECT = (DayStatus.code(s) for s in (DayStatus.HALTED, DayStatus.NO_DATA, DayStatus.SUSPECT))


def _objects(values: np.ndarray[Any, Any], keep: np.ndarray[Any, Any] | None = None) -> list[Any]:
    """Python values with None for every non-finite entry (and where ``keep`` is False), column-major for 2-D."""
    out = values.astype(object)
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
    elif values.dtype.kind == "M":
        bad = np.isnat(values)
    else:
        bad = np.zeros(values.shape, dtype=bool)
    if keep is not None:
        bad |= ~keep
    out[bad] = None
    listed: list[Any] = (out.T if out.ndim == 2 else out).tolist()
    return listed


def security_records(kept: Kept, columns: slice, params: StudyParams) -> tuple[SecurityResult, ...]:
    last = params.window[1]
    n = columns.stop - columns.start
    if n == 0:
        return ()
    statuses = [STATUSES[c] for c in kept.status[columns].tolist()]
    usable = np.array([s in USABLE for s in statuses], dtype=bool)
    fitted = (kept.fit_problem[columns] == FIT_OK) & (kept.problem[columns] == 0)
    complete = kept.complete[0, columns]
    last_row = kept.last_row[0, columns].astype(np.int64)
    everything = kept.rows(columns, len(kept.rel))
    present = everything.present
    main_mask = everything.valid & (np.arange(len(kept.rel))[:, None] <= last_row[None, :])
    row_last = int(last - kept.rel[0])
    present_any = present.any(axis=0)
    last_present = np.where(present_any, present.shape[0] - 1 - np.argmax(present[::-1], axis=0), -1)
    shown = np.where(complete & fitted, last_row, np.minimum(row_last, last_present))
    height = max(int(shown.max(initial=-1)) + 1, 0)
    view = slice(0, height)

    ar_raw = kept.ar[view, columns]
    with np.errstate(invalid="ignore", divide="ignore"):
        ar_t = ar_raw / np.sqrt(kept.ar_variance[view, columns])
    mask = main_mask[view]
    running = np.where(mask, np.cumsum(np.where(mask, ar_raw, 0.0), axis=0), np.nan)
    dates = _objects(everything.dates[view])
    ret = _objects(everything.ret[view])
    bench = _objects(everything.bench[view])
    ar = _objects(ar_raw, usable[None, :])
    tvals = _objects(ar_t, usable[None, :])
    car = _objects(running, usable[None, :])
    span = everything.span[view].astype(np.int64).T.tolist()
    day_codes = np.where(present[view], everything.status[view], NO_DATA)
    words = np.array(DAY_WORDS, dtype=object)[day_codes].T.tolist()
    halted = (day_codes == HALTED).T.tolist()
    rels = kept.rel.tolist()

    valid = everything.valid
    row0 = int(-kept.rel[0])
    later = valid[row0:]
    reaction = np.where(later.any(axis=0), row0 + np.argmax(later, axis=0), len(rels))
    has_reaction = usable & (reaction < len(rels))
    included_last = np.where(main_mask.any(axis=0), main_mask.shape[0] - 1 - np.argmax(main_mask[::-1], axis=0), -1)
    index = np.arange(n)
    all_dates = everything.dates
    reaction_dates = _objects(all_dates[np.where(has_reaction, reaction, 0), index], has_reaction)
    through_dates = _objects(all_dates[np.maximum(included_last, 0), index], usable)
    latest = _objects(np.where(last_present >= 0, all_dates[np.maximum(last_present, 0), index], np.datetime64("NaT")))
    df = kept.df[columns]
    per = {
        "alpha": _objects(kept.alpha[columns], fitted & (params.model != "market-adjusted")),
        "beta": _objects(kept.beta[columns], fitted & (params.model == "market")),
        "sigma": _objects(np.sqrt(kept.s2[columns]), fitted),
        "car": _objects(kept.car[0, columns], usable),
        "variance": _objects(kept.variance[0, columns], usable),
        "bhar": _objects(kept.bhar[0, columns], usable),
    }
    labels = [window_label(w) for w in kept.windows[1:]]
    windows = {label: _window_cars(kept, w + 1, columns, rels) for w, label in enumerate(labels)}
    day0 = kept.day0[columns].astype(object).tolist()
    security = kept.security[columns].tolist()
    out: list[SecurityResult] = []
    for i in range(n):
        rows_shown = int(shown[i]) + 1
        days = tuple(
            map(DayResult, rels[:rows_shown], dates[i][:rows_shown], ret[i][:rows_shown], bench[i][:rows_shown],
                ar[i][:rows_shown], tvals[i][:rows_shown], car[i][:rows_shown], span[i][:rows_shown],
                halted[i][:rows_shown], words[i][:rows_shown])
        )  # fmt: skip
        react = int(reaction[i]) if has_reaction[i] else None
        column = columns.start + i
        status = statuses[i]
        car_i, var_i = per["car"][i], per["variance"][i]
        t = car_i / math.sqrt(var_i) if car_i is not None and var_i else None
        problem = PROBLEMS[int(kept.problem[column])]
        out.append(
            SecurityResult(
                symbol=kept.names[security[i]],
                benchmark=kept.benchmark_names[security[i]],
                day0=day0[i],
                status=status.value,
                reason=reason(
                    status,
                    problem=None if problem is None else problem.format(day0="" if day0[i] is None else day0[i]),
                    fit=int(kept.fit_problem[column]),
                    n=int(kept.n_estimation[column]),
                    estimation=params.estimation_range,
                    min_estimation=params.min_estimation,
                    through=latest[i] if status is not StudyStatus.HALTED else through_dates[i] or latest[i],
                    benchmark=kept.benchmark_names[security[i]],
                    suspect_day=_suspect(everything.status[:, i], main_mask[:, i], everything.ret[:, i], rels),
                ),
                alpha=per["alpha"][i],
                beta=per["beta"][i],
                sigma=per["sigma"][i],
                n_estimation=int(kept.n_estimation[column]) if kept.problem[column] == 0 else None,
                df=int(df[i]) if fitted[i] else None,
                car=car_i,
                car_variance=var_i,
                car_t=t,
                car_p=two_sided_t(t, max(int(df[i]), 1)) if t is not None else None,
                bhar=per["bhar"][i],
                day0_halted=react is not None and react != row0,
                reaction_day=rels[react] if react is not None else None,
                reaction_date=reaction_dates[i],
                through_date=through_dates[i],
                days=days,
                sub_windows={label: cars[i] for label, cars in windows.items()} if usable[i] else {},
            )
        )
    return tuple(out)


def _suspect(status: np.ndarray, mask: np.ndarray, ret: np.ndarray, rels: list[int]) -> tuple[int, float] | None:
    flagged = np.flatnonzero((status == SUSPECT) & mask)
    if not len(flagged):
        return None
    row = int(flagged[0])
    return rels[row], float(ret[row])


def _window_cars(kept: Kept, w: int, columns: slice, rels: list[int]) -> list[WindowCar]:
    has = kept.has[w, columns]
    firsts = _objects(kept.first[w, columns].astype(np.int64), has)
    lasts = [rels[r] if h else None for r, h in zip(kept.last_row[w, columns].tolist(), has.tolist(), strict=True)]
    car = kept.car[w, columns]
    variance = kept.variance[w, columns]
    df = np.maximum(kept.df[columns], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = car / np.sqrt(variance)
    p = 2.0 * special.stdtr(df, -np.abs(t))
    return list(
        map(
            WindowCar,
            [kept.windows[w]] * len(has),
            firsts,
            lasts,
            _objects(car),
            _objects(variance),
            _objects(np.where(has, t, np.nan)),
            _objects(np.where(has, p, np.nan)),
            _objects(kept.bhar[w, columns]),
            kept.complete[w, columns].tolist(),
        )
    )
