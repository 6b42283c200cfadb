"""What the engine returns: frozen dataclasses and named tuples, and their JSON form (``monitor study --json``).

Every return and abnormal return is a fraction (−0.095, not −9.5). Missing values are ``None`` (JSON ``null``),
never NaN: a halted session has no abnormal return, not a zero one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, ClassVar, NamedTuple

from monitor.study.params import StudyParams, window_label


def clean(value: float | None) -> float | None:
    """NaN and infinities become None so nothing non-finite reaches JSON or the database."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Statistic:
    """A test statistic with its two-sided p-value; ``df`` is None for a standard-normal statistic."""

    value: float | None
    p_value: float | None
    df: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "p_value": self.p_value, "df": self.df}


NO_STATISTIC = Statistic(None, None)


class DayResult(NamedTuple):
    """One event-window session of one security (a named tuple: 500 securities make thousands of these)."""

    rel_day: int
    date: date | None
    ret: float | None  # trade-to-trade simple return ending on this session
    benchmark_return: float | None  # compounded over the same sessions
    ar: float | None  # None on a session where no return ends (halt): never a zero
    ar_t: float | None  # AR / sqrt(Var(AR)) with the prediction-error term
    car: float | None  # cumulative abnormal return from the window's first day through this session
    sessions: int  # sessions the return spans; 0 when none ends here
    halted: bool
    status: str = "traded"  # a monitor.models.DayStatus value: traded, halted, bad_price, benchmark_gap …


class WindowCar(NamedTuple):
    """One security's CAR over a window; ``first``/``last`` are the sessions its returns actually cover."""

    window: tuple[int, int]
    first: int | None
    last: int | None
    car: float | None
    variance: float | None
    t: float | None
    p_value: float | None
    bhar: float | None
    complete: bool  # every return the window needs is in (False while a halt or the window is still running)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": list(self.window),
            "first": self.first,
            "last": self.last,
            "car": self.car,
            "variance": self.variance,
            "t": self.t,
            "p_value": self.p_value,
            "bhar": self.bhar,
            "complete": self.complete,
        }


@dataclass(frozen=True)
class SecurityResult:
    symbol: str
    benchmark: str
    day0: date | None
    status: str  # a monitor.models.StudyStatus value
    reason: str | None
    alpha: float | None = None
    beta: float | None = None
    sigma: float | None = None
    n_estimation: int | None = None
    df: int | None = None
    car: float | None = None
    car_variance: float | None = None
    car_t: float | None = None
    car_p: float | None = None
    bhar: float | None = None
    day0_halted: bool = False  # no return ends on day 0; its reaction is on ``reaction_date``
    reaction_day: int | None = None  # relative session of the first return that covers day 0
    reaction_date: date | None = None
    through_date: date | None = None  # last session the window's CAR includes
    days: tuple[DayResult, ...] = ()
    sub_windows: dict[str, WindowCar] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "benchmark": self.benchmark,
            "day0": self.day0.isoformat() if self.day0 else None,
            "status": self.status,
            "reason": self.reason,
            "alpha": self.alpha,
            "beta": self.beta,
            "sigma": self.sigma,
            "n_estimation": self.n_estimation,
            "df": self.df,
            "car": self.car,
            "car_variance": self.car_variance,
            "car_t": self.car_t,
            "car_p": self.car_p,
            "bhar": self.bhar,
            "day0_halted": self.day0_halted,
            "reaction_day": self.reaction_day,
            "reaction_date": self.reaction_date.isoformat() if self.reaction_date else None,
            "through_date": self.through_date.isoformat() if self.through_date else None,
            "days": [
                {
                    "rel_day": d.rel_day,
                    "date": d.date.isoformat() if d.date else None,
                    "return": d.ret,
                    "benchmark_return": d.benchmark_return,
                    "ar": d.ar,
                    "t": d.ar_t,
                    "car": d.car,
                    "sessions": d.sessions,
                    "halted": d.halted,
                    "status": d.status,
                }
                for d in self.days
            ],
            "sub_windows": {key: value.to_dict() for key, value in self.sub_windows.items()},
        }


@dataclass(frozen=True)
class AarDay:
    rel_day: int
    aar: float | None
    n: int  # securities with a return ending on this session (halted ones are left out of the day)
    t: float | None  # cross-sectional t of the day
    bmp_t: float | None


@dataclass(frozen=True)
class WindowTests:
    """The cross-section of CARs over one window and the tests of H0: CAAR = 0."""

    window: tuple[int, int]
    n: int
    caar: float | None
    sessions: float | None  # mean sessions the CARs cover (L2 of the portfolio test)
    cross_sectional_t: Statistic = NO_STATISTIC
    patell_z: Statistic = NO_STATISTIC
    bmp_t: Statistic = NO_STATISTIC
    kp_bmp_t: Statistic = NO_STATISTIC
    portfolio_t: Statistic = NO_STATISTIC
    rank_z: Statistic = NO_STATISTIC
    generalized_sign_z: Statistic = NO_STATISTIC
    mean_residual_correlation: float | None = None
    kp_factor: float | None = None
    n_too_small: bool = False  # fewer securities than the configured minimum: print "n too small", not the tests

    STATISTICS: ClassVar[tuple[str, ...]] = (
        "cross_sectional_t",
        "patell_z",
        "bmp_t",
        "kp_bmp_t",
        "portfolio_t",
        "rank_z",
        "generalized_sign_z",
    )

    def statistic(self, name: str) -> Statistic:
        value = getattr(self, name)
        assert isinstance(value, Statistic)
        return value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"window": list(self.window), "n": self.n, "caar": self.caar}
        out["n_too_small"] = self.n_too_small
        out.update({name: self.statistic(name).value for name in self.STATISTICS})
        out["mean_residual_correlation"] = self.mean_residual_correlation
        out["kp_factor"] = self.kp_factor
        out["sessions"] = self.sessions
        out["p_values"] = {name: self.statistic(name).p_value for name in self.STATISTICS}
        out["df"] = {name: self.statistic(name).df for name in self.STATISTICS}
        return out


@dataclass(frozen=True)
class Placebo:
    """Empirical p-value of the CAAR against the same securities' CAARs on earlier, event-free dates."""

    p_value: float | None
    draws: int
    shifts: tuple[int, ...] = ()  # each draw's day 0, in sessions before the real day 0
    caars: tuple[float, ...] = ()
    note: str | None = None  # why there is no p-value


@dataclass(frozen=True)
class Aggregate:
    n: int
    caar: float | None
    aar: tuple[AarDay, ...]
    tests: WindowTests
    rank_z_day0: Statistic
    sub_windows: dict[str, WindowTests]
    placebo: Placebo | None
    include_partial: bool = False  # whether windows not yet complete were let into the tests

    # How a trade-to-trade return spanning several sessions is placed in the daily AARs.
    AAR_CONVENTION: ClassVar[str] = (
        "end-day: a return spanning k sessions counts on the session it ends (a return ending after the window "
        "counts on its last day); aar is the day's share of the CAAR, so the AARs sum to the CAAR; n, t and bmp_t "
        "are over the securities with a return ending that day"
    )

    def to_dict(self) -> dict[str, Any]:
        tests = self.tests.to_dict()
        tests["rank_z_day0"] = self.rank_z_day0.value
        tests["p_values"]["rank_z_day0"] = self.rank_z_day0.p_value
        tests["placebo_p"] = self.placebo.p_value if self.placebo else None
        tests["placebo_draws"] = self.placebo.draws if self.placebo else 0
        return {
            "n": self.n,
            "caar": self.caar,
            "aar": [{"rel_day": d.rel_day, "aar": d.aar, "n": d.n, "t": d.t, "bmp_t": d.bmp_t} for d in self.aar],
            "tests": tests,
            "sub_windows": {key: value.to_dict() for key, value in self.sub_windows.items()},
            "placebo_note": self.placebo.note if self.placebo else None,
            "partial_windows": "included" if self.include_partial else "excluded",
            "aar_convention": self.AAR_CONVENTION,
        }


@dataclass(frozen=True)
class EventResult:
    """One event's study. ``securities`` may be lazy (built from the batch's arrays on first access); the
    aggregate is built from ``stats`` on first access unless one is given."""

    params: StudyParams
    securities: Sequence[SecurityResult]
    stats: Any = None  # monitor.study.batch.EventStats of the chunk this event was studied in
    event: int = 0  # the event's index in ``stats``
    given: Aggregate | None = None

    @cached_property
    def aggregate(self) -> Aggregate:
        if self.given is not None:
            return self.given
        out: Aggregate = self.stats.aggregate(self.event, self.params)
        return out

    def security(self, symbol: str) -> SecurityResult:
        for result in self.securities:
            if result.symbol == symbol:
                return result
        raise KeyError(symbol)

    def to_dict(self) -> dict[str, Any]:
        """The ``monitor study --json`` body (the caller adds ``event_time``)."""
        return {
            "model": self.params.model,
            "estimation": self.params.estimation,
            "gap": self.params.gap,
            "window": list(self.params.window),
            "sub_windows": [window_label(w) for w in self.params.windows_in_range],
            "securities": [s.to_dict() for s in self.securities],
            "aggregate": self.aggregate.to_dict(),
        }
