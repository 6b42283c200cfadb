"""What one study run is asked to do: model, windows, thresholds and the placebo draw.

Kept as a frozen dataclass (not the pydantic settings section) so the engine stays pure and cheap to build in hot
loops; ``StudyParams.from_settings`` is the bridge from ``settings.study`` plus command-line overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, get_args

from monitor.errors import InputError

if TYPE_CHECKING:
    from monitor.config import StudySettings

Model = Literal["market", "market-adjusted", "constant-mean"]
MODELS: tuple[Model, ...] = get_args(Model)

# Standard windows every report shows beside the full event window (§4.3 of the methods note): the day-0 reaction,
# the two-day reaction, the leak-robust three-day window, and the longer windows A-shares need under price limits.
STANDARD_SUB_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 3), (0, 5))

# Residual variance degrees of freedom lost per model: two OLS parameters, one mean, and the ddof=1 demeaning the
# methods note prescribes for the market-adjusted residual variance.
DDOF: dict[Model, int] = {"market": 2, "constant-mean": 1, "market-adjusted": 1}

# Fewest valid estimation returns any study may be configured to accept (the default minimum is 120).
MIN_ESTIMATION_FLOOR = 30


def window_label(window: tuple[int, int]) -> str:
    """The key a window is stored and printed under, e.g. ``[0,1]`` or ``[-1,1]``."""
    return f"[{window[0]},{window[1]}]"


@dataclass(frozen=True)
class StudyParams:
    """Parameters of one event study; windows are in sessions of each security's own exchange."""

    model: Model = "market"
    estimation: int = 250  # L1: estimation window length, sessions
    gap: int = 10  # sessions between the estimation window's end and the event window's first day
    window: tuple[int, int] = (-5, 5)  # event window [first, last] relative to day 0
    min_estimation: int = 120  # fewest valid estimation returns for a usable security
    placebo_draws: int = 0  # random earlier event dates for the placebo p-value; 0 turns it off
    placebo_seed: int = 20191007
    placebo_lookback: int = 500  # placebo day 0 lies at most this many sessions before the real one (about 2 years)
    sub_windows: tuple[tuple[int, int], ...] = STANDARD_SUB_WINDOWS
    max_halt_extension: int = 60  # sessions past the window's end searched for the close that ends a halt
    min_securities: int = 5  # an aggregate over fewer securities prints "n too small" instead of its tests
    include_partial: bool = False  # let windows that are not complete (still running, halted) into the tests
    exclude_dates: tuple[date, ...] = ()  # sessions kept out of every estimation window (known leak days)
    max_daily_move: float = 1.0  # markets without price limits: a session beyond +100%/−50% is suspect data

    def __post_init__(self) -> None:
        first, last = self.window
        if self.model not in MODELS:
            raise InputError(f"model {self.model!r} is not one of {', '.join(MODELS)}")
        if first > 0 or last < 0:
            raise InputError(f"event window [{first},{last}] must contain day 0")
        if self.estimation < 3:
            raise InputError(f"estimation window of {self.estimation} sessions is too short")
        if self.gap < 0:
            raise InputError(f"gap must not be negative, got {self.gap}")
        if self.estimation < self.min_estimation:
            raise InputError(
                f"an estimation window of {self.estimation} sessions cannot hold the minimum of {self.min_estimation} "
                "valid returns (study.min_estimation); lower that minimum too if you mean it"
            )
        if self.min_estimation < MIN_ESTIMATION_FLOOR:
            raise InputError(
                f"min_estimation {self.min_estimation} is below {MIN_ESTIMATION_FLOOR}: a normal-return model fitted "
                "on so few returns is not worth testing"
            )
        if self.min_securities < 2:
            raise InputError(f"min_securities must be at least 2, got {self.min_securities}")
        if self.max_daily_move <= 0:
            raise InputError(f"max_daily_move must be positive, got {self.max_daily_move}")
        if self.placebo_draws < 0 or self.placebo_lookback < 0 or self.max_halt_extension < 0:
            raise InputError("placebo_draws, placebo_lookback and max_halt_extension must not be negative")
        for a, b in self.sub_windows:
            if a > b:
                raise InputError(f"sub-window {window_label((a, b))} ends before it starts")

    @property
    def length(self) -> int:
        """L2, the event window's length in sessions."""
        return self.window[1] - self.window[0] + 1

    @property
    def estimation_range(self) -> tuple[int, int]:
        """First and last relative session of the estimation window, e.g. (-265, -16) for the defaults."""
        last = self.window[0] - self.gap - 1
        return last - self.estimation + 1, last

    @property
    def ddof(self) -> int:
        return DDOF[self.model]

    @property
    def windows_in_range(self) -> tuple[tuple[int, int], ...]:
        """The standard sub-windows that fit inside the event window (others cannot be measured)."""
        first, last = self.window
        return tuple(w for w in self.sub_windows if first <= w[0] and w[1] <= last)

    def with_(self, **changes: Any) -> StudyParams:
        return replace(self, **changes)

    @classmethod
    def from_settings(cls, study: StudySettings, **overrides: Any) -> StudyParams:
        """``settings.study`` with command-line overrides on top (``None`` overrides are ignored)."""
        values: dict[str, Any] = {
            "model": study.model,
            "estimation": study.estimation,
            "gap": study.gap,
            "window": tuple(study.window),
            "min_estimation": study.min_estimation,
            "placebo_draws": study.placebo_draws,
            "placebo_seed": study.placebo_seed,
            "placebo_lookback": study.placebo_lookback,
        }
        for name in ("min_securities", "include_partial", "max_daily_move"):
            values[name] = getattr(study, name)
        values["exclude_dates"] = tuple(study.exclude_dates)
        extra = overrides.pop("exclude_dates", None) or ()
        values.update({key: value for key, value in overrides.items() if value is not None})
        values["exclude_dates"] = tuple(
            sorted(set(values["exclude_dates"]) | set(extra))
        )  # the setting's and the flag's
        return cls(**values)
