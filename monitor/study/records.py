"""Turning the engine's (rows x securities) arrays into per-security result records.

This is the one place with a loop over securities, and it only assembles objects: every number is already computed.
Arrays are converted column-wise (NaN becomes None in one vectorised step) so 500 securities take a few
milliseconds, not the bulk of the study.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor.models import StudyStatus
from monitor.study.inputs import EventPanel
from monitor.study.normal import Fit
from monitor.study.params import StudyParams
from monitor.study.results import DayResult, SecurityResult, WindowCar
from monitor.study.windows import EventRows, WindowArrays

USABLE = (StudyStatus.COMPLETE, StudyStatus.PARTIAL)


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


def security_records(
    panel: EventPanel,
    model: Fit,
    rows: EventRows,
    main: WindowArrays,
    subs: dict[str, WindowArrays],
    statuses: list[StudyStatus],
    reasons: list[str | None],
    params: StudyParams,
) -> tuple[SecurityResult, ...]:
    first, last = params.window
    usable = np.array([s in USABLE for s in statuses], dtype=bool)
    complete = np.array([s == StudyStatus.COMPLETE for s in statuses], dtype=bool)
    fitted = np.array(
        [s != StudyStatus.INSUFFICIENT_DATA and p is None for s, p in zip(statuses, panel.problem, strict=True)],
        dtype=bool,
    )
    present_any = rows.present.any(axis=0)
    last_present = np.where(present_any, rows.present.shape[0] - 1 - np.argmax(rows.present[::-1], axis=0), -1)
    shown = np.where(complete, main.last_row, np.minimum(rows.row(last), last_present))
    height = max(int(shown.max(initial=-1)) + 1, 0)
    view = slice(0, height)
    evt_first = panel.row(first)

    with np.errstate(invalid="ignore", divide="ignore"):
        ar_t = rows.ar / np.sqrt(rows.ar_variance)
    running = np.where(main.mask, np.cumsum(np.where(main.mask, rows.ar, 0.0), axis=0), np.nan)
    dates = _objects(panel.dates[evt_first:][view])
    ret = _objects(rows.ret[view])
    bench = _objects(rows.bench[view])
    ar = _objects(rows.ar[view], usable[None, :])
    tvals = _objects(ar_t[view], usable[None, :])
    car = _objects(running[view], usable[None, :])
    span = rows.span[view].astype(np.int64).T.tolist()
    halted = (panel.halted[evt_first:][view] & rows.present[view]).T.tolist()
    rels = rows.rel.tolist()

    reaction = rows.next_valid[rows.row(0)]
    has_reaction = usable & (reaction < len(rels))
    included_last = np.where(main.mask.any(axis=0), main.mask.shape[0] - 1 - np.argmax(main.mask[::-1], axis=0), -1)
    columns = np.arange(panel.n)
    reaction_dates = _objects(panel.dates[evt_first + np.where(has_reaction, reaction, 0), columns], has_reaction)
    through_dates = _objects(panel.dates[evt_first + np.maximum(included_last, 0), columns], usable)
    per = {
        "alpha": _objects(model.alpha, fitted & (params.model != "market-adjusted")),
        "beta": _objects(model.beta, fitted & (params.model == "market")),
        "sigma": _objects(np.sqrt(model.s2), fitted),
        "car": _objects(main.car, usable),
        "variance": _objects(main.variance, usable),
        "t": _objects(main.t, usable),
        "p": _objects(main.p, usable),
        "bhar": _objects(main.bhar, usable),
    }
    windows = {label: _window_cars(arrays, rels) for label, arrays in subs.items()}
    day0 = panel.day0.astype(object).tolist()
    out: list[SecurityResult] = []
    for i, symbol in enumerate(panel.symbols):
        n = int(shown[i]) + 1
        days = tuple(
            map(DayResult, rels[:n], dates[i][:n], ret[i][:n], bench[i][:n], ar[i][:n], tvals[i][:n], car[i][:n],
                span[i][:n], halted[i][:n])
        )  # fmt: skip
        react = int(reaction[i]) if has_reaction[i] else None
        out.append(
            SecurityResult(
                symbol=symbol,
                benchmark=panel.benchmarks[i],
                day0=day0[i],
                status=statuses[i].value,
                reason=reasons[i],
                alpha=per["alpha"][i],
                beta=per["beta"][i],
                sigma=per["sigma"][i],
                n_estimation=int(model.n[i]) if panel.problem[i] is None else None,
                df=int(model.df[i]) if fitted[i] else None,
                car=per["car"][i],
                car_variance=per["variance"][i],
                car_t=per["t"][i],
                car_p=per["p"][i],
                bhar=per["bhar"][i],
                day0_halted=react is not None and react != rows.row(0),
                reaction_day=rels[react] if react is not None else None,
                reaction_date=reaction_dates[i],
                through_date=through_dates[i],
                days=days,
                sub_windows={label: cars[i] for label, cars in windows.items()} if usable[i] else {},
            )
        )
    return tuple(out)


def _window_cars(arrays: WindowArrays, rels: list[int]) -> list[WindowCar]:
    has = arrays.has
    firsts = _objects(arrays.first, has)
    lasts = [rels[r] if h else None for r, h in zip(arrays.last_row.tolist(), has.tolist(), strict=True)]
    return list(
        map(
            WindowCar,
            [arrays.window] * len(has),
            firsts,
            lasts,
            _objects(arrays.car),
            _objects(arrays.variance),
            _objects(arrays.t),
            _objects(arrays.p),
            _objects(arrays.bhar),
            arrays.complete.tolist(),
        )
    )
