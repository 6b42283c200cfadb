"""The event-study engine: pure numpy/scipy, no I/O, all securities of an event in one vectorised pass.

Build a ``SecuritySeries`` per security (``SecuritySeries.from_closes`` turns closes on every session into
trade-to-trade returns), then ``run_event(series, StudyParams(...))`` returns an ``EventResult``: per-security model
parameters, abnormal returns, CARs with exact variances, BHARs and t-stats, and the event's AAR/CAAR with the
cross-sectional, Patell, BMP, Kolari–Pynnönen, Brown–Warner portfolio, Corrado rank, generalized sign and
placebo-date tests. Methods: ``../shared/reference/eventstudy-methods.md`` §1.2–1.7.
"""

from monitor.study.engine import run_event
from monitor.study.inputs import SecuritySeries
from monitor.study.params import MODELS, STANDARD_SUB_WINDOWS, Model, StudyParams, window_label
from monitor.study.results import (
    AarDay,
    Aggregate,
    DayResult,
    EventResult,
    Placebo,
    SecurityResult,
    Statistic,
    WindowCar,
    WindowTests,
)

__all__ = [
    "MODELS",
    "STANDARD_SUB_WINDOWS",
    "AarDay",
    "Aggregate",
    "DayResult",
    "EventResult",
    "Model",
    "Placebo",
    "SecurityResult",
    "SecuritySeries",
    "Statistic",
    "StudyParams",
    "WindowCar",
    "WindowTests",
    "run_event",
    "window_label",
]
