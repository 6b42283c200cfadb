"""Seeded synthetic markets for the engine's tests: weekday sessions, a benchmark, and market-model stocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from monitor.study import SecuritySeries


def weekdays(start: str, count: int) -> np.ndarray:
    days = np.arange(np.datetime64(start, "D"), np.datetime64(start, "D") + count * 2)
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    return days[weekday < 5][:count]


def as_date(day: np.datetime64) -> date:
    value: date = day.astype(object)
    return value


@dataclass
class Market:
    sessions: np.ndarray  # (T,)
    rm: np.ndarray  # (T,) benchmark returns
    R: np.ndarray  # (T, N) stock returns
    alpha: np.ndarray
    beta: np.ndarray
    e: int  # row of day 0

    @property
    def day0(self) -> date:
        return as_date(self.sessions[self.e])

    def series(self, i: int, symbol: str | None = None) -> SecuritySeries:
        """Security i as a complete series (every return spans one session); row 0 has no return."""
        ret = self.R[:, i].copy()
        bench = self.rm.copy()
        ret[0] = bench[0] = np.nan
        spans = np.ones(len(ret), dtype=np.int64)
        spans[0] = 0
        return SecuritySeries(
            symbol=symbol or f"S{i:03d}",
            benchmark="IDX",
            day0=self.day0,
            sessions=self.sessions,
            returns=ret,
            benchmark_returns=bench,
            spans=spans,
            halted=np.zeros(len(ret), dtype=bool),
        )

    def all_series(self) -> list[SecuritySeries]:
        return [self.series(i) for i in range(self.R.shape[1])]

    def closes(self, i: int) -> np.ndarray:
        return 50.0 * np.cumprod(1.0 + np.where(np.arange(len(self.rm)) == 0, 0.0, self.R[:, i]))

    def benchmark_closes(self) -> np.ndarray:
        return 3000.0 * np.cumprod(1.0 + np.where(np.arange(len(self.rm)) == 0, 0.0, self.rm))


def market(
    n: int = 30,
    days: int = 400,
    e: int = 350,
    seed: int = 7,
    sigma: float = 0.02,
    common: float = 0.0,
    shock: dict[int, float] | None = None,
) -> Market:
    """Stocks R = α + β·R_m + ε with an optional common residual factor (cross-correlation) and day shocks."""
    rng = np.random.default_rng(seed)
    rm = rng.normal(0.0004, 0.011, days)
    alpha = rng.normal(0.0002, 0.0005, n)
    beta = rng.uniform(0.5, 1.8, n)
    noise = rng.normal(0.0, sigma, (days, n))
    if common:
        noise += common * rng.normal(0.0, sigma, (days, 1))
    R = alpha + np.outer(rm, beta) + noise
    for rel, size in (shock or {}).items():
        R[e + rel] += size
    return Market(weekdays("2018-01-01", days), rm, R, alpha, beta, e)
