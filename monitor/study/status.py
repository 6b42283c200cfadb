"""Which status each (event, security) pair gets, decided for all pairs at once, and the words that explain it.

Order of precedence: a day 0 that cannot be placed (pending, listed later, not a session), then an estimation that
cannot be trusted (too few valid returns, a flat benchmark, zero variance), then no event-window return yet
(pending); a complete window holding a suspect return is ``bad_price``; an incomplete one says why it is
incomplete: ``delisted`` (gone before the window ends), ``halted`` (its latest session is a halt while the market
trades), ``bad_price`` or ``benchmark_gap`` (its latest session has no usable price or no benchmark bar), else
``partial`` (the window's sessions are still to come).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from monitor.models import DayStatus, StudyStatus
from monitor.study.book import LISTED_LATER, NO_PRICES_YET, UNKNOWN_DAY0
from monitor.study.inputs import BoolArray, IntArray

STATUSES: tuple[StudyStatus, ...] = tuple(StudyStatus)
CODE = {status: index for index, status in enumerate(STATUSES)}
FIT_PROBLEMS = (
    None,
    "only {n} valid returns in the estimation window [{first},{last}]; {need} needed",
    "the benchmark did not move over the estimation window; beta cannot be estimated",
    "zero residual variance over the estimation window",
)
FIT_OK, FIT_SHORT, FIT_FLAT, FIT_ZERO = range(4)
_DAY_CODE = {status: DayStatus.code(status) for status in DayStatus}
Int8Array = npt.NDArray[np.int8]


def fit_problems(n: IntArray, s2: npt.NDArray[np.float64], smm: npt.NDArray[np.float64], market: bool,
                 min_estimation: int) -> Int8Array:  # fmt: skip
    """Why each pair's model cannot be used (``FIT_OK``: it can)."""
    out = np.full(len(n), FIT_OK, dtype=np.int8)
    out[~(np.isfinite(s2) & (s2 > 0))] = FIT_ZERO
    if market:
        out[~(smm > 0)] = FIT_FLAT
    out[n < min_estimation] = FIT_SHORT
    return out


def decide(
    problem: Int8Array,
    fit: Int8Array,
    has: BoolArray,
    complete: BoolArray,
    suspect_in_window: BoolArray,
    latest_status: Int8Array,
    delisted_on: IntArray,
    window_end_bound: IntArray,
) -> Int8Array:
    """(P,) ``STATUSES`` codes. ``latest_status`` is the day status of each pair's last session in the data;
    ``window_end_bound`` a late estimate of the window's last session (day numbers)."""
    out = np.full(len(problem), CODE[StudyStatus.PARTIAL], dtype=np.int8)
    gone = delisted_on <= window_end_bound
    out[latest_status == _DAY_CODE[DayStatus.BENCHMARK_GAP]] = CODE[StudyStatus.BENCHMARK_GAP]
    out[latest_status == _DAY_CODE[DayStatus.BAD_PRICE]] = CODE[StudyStatus.BAD_PRICE]
    out[latest_status == _DAY_CODE[DayStatus.HALTED]] = CODE[StudyStatus.HALTED]
    out[gone] = CODE[StudyStatus.DELISTED]
    out[complete] = CODE[StudyStatus.COMPLETE]
    out[complete & suspect_in_window] = CODE[StudyStatus.BAD_PRICE]
    out[~has] = CODE[StudyStatus.PENDING]
    out[fit != FIT_OK] = CODE[StudyStatus.INSUFFICIENT_DATA]
    placed = problem != 0
    out[placed] = CODE[StudyStatus.INSUFFICIENT_DATA]
    out[np.isin(problem, (UNKNOWN_DAY0, NO_PRICES_YET))] = CODE[StudyStatus.PENDING]
    out[problem == LISTED_LATER] = CODE[StudyStatus.LISTED_LATER]
    return out


def reason(
    status: StudyStatus,
    *,
    problem: str | None,
    fit: int,
    n: int,
    estimation: tuple[int, int],
    min_estimation: int,
    through: date | None,
    benchmark: str,
    suspect_day: tuple[int, float] | None,
) -> str | None:
    """The sentence a trader reads beside a status that is not ``complete``."""
    if problem is not None:
        return problem
    if fit != FIT_OK:
        template = FIT_PROBLEMS[fit]
        assert template is not None
        return template.format(n=n, first=estimation[0], last=estimation[1], need=min_estimation)
    last = "" if through is None else through.isoformat()
    if status is StudyStatus.COMPLETE:
        return None
    if status is StudyStatus.PENDING:
        return "no event-window return yet"
    if status is StudyStatus.BAD_PRICE and suspect_day is not None:
        rel, value = suspect_day
        return (
            f"the return of {value:+.1%} ending on day {rel:+d} is beyond the exchange's daily limit or the bound: "
            "suspect data (an unadjusted split? a wrong row?), kept out of the aggregates"
        )
    return {
        StudyStatus.PARTIAL: f"the event window is not over yet (prices through {last})",
        StudyStatus.HALTED: f"halted after {last} while its market trades; the window completes when it trades again",
        StudyStatus.BAD_PRICE: f"no usable price after {last} (zero, negative or missing close)",
        StudyStatus.BENCHMARK_GAP: f"benchmark {benchmark} has no bar after {last}; the window waits for it",
        StudyStatus.DELISTED: f"delisted: no bars after {last}, before the event window ends",
    }.get(status)
