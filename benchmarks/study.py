"""Event-study engine speed, with Lemaire's ``eventstudy`` 0.1a12 run side by side on the same inputs.

    python -m benchmarks.study

Inputs are a seeded synthetic market (market-model stocks with a common residual factor, weekday sessions), so
every run measures the same work. Targets: one date with 500 securities, L1 = 250 and every statistic but the
placebo in under 100 ms; 10,000 (event, security) pairs over 200 dates in under 3 s. ``eventstudy`` is optional
(``pip install -e '.[bench]'``); without it the comparison rows say so and the rest still runs.
"""

from __future__ import annotations

import warnings
from datetime import date
from typing import Any

import numpy as np
from rich.markup import escape

from benchmarks._table import Row, best_of, report
from monitor.study import EventResult, SecuritySeries, StudyParams, run_event

SEED = 20191007
PARAMS = StudyParams()  # market model, L1 = 250, gap 10, window [-5, +5], no placebo
WINDOW = PARAMS.window


class Market:
    """Weekday sessions, one benchmark and N market-model stocks."""

    def __init__(self, n: int, days: int, seed: int = SEED) -> None:
        rng = np.random.default_rng(seed)
        start = np.datetime64("2012-01-02")
        calendar = np.arange(start, start + days * 2)
        self.sessions = calendar[((calendar.view("int64") + 3) % 7) < 5][:days]
        self.rm = rng.normal(0.0004, 0.011, days)
        beta = rng.uniform(0.5, 1.8, n)
        noise = rng.normal(0.0, 0.02, (days, n)) + 0.3 * rng.normal(0.0, 0.02, (days, 1))
        self.R = rng.normal(0.0002, 0.0005, n) + np.outer(self.rm, beta) + noise
        self.symbols = [f"S{i:03d}" for i in range(n)]
        spans = np.ones(days, dtype=np.int64)
        spans[0] = 0
        ret, bench = self.R.copy(), self.rm.copy()
        ret[0], bench[0] = np.nan, np.nan
        self.series = [
            SecuritySeries(sym, "IDX", None, self.sessions, ret[:, i], bench, spans, np.zeros(days, dtype=bool))
            for i, sym in enumerate(self.symbols)
        ]

    def day(self, row: int) -> date:
        value: date = self.sessions[row].astype(object)
        return value

    def at(self, row: int, columns: list[int] | None = None) -> list[SecuritySeries]:
        """The chosen securities with day 0 on session ``row`` (a cheap copy: arrays are shared)."""
        day0 = self.day(row)
        picked = range(len(self.series)) if columns is None else columns
        return [self.series[i].at(day0) for i in picked]


def pooled_caar(results: list[EventResult]) -> float:
    """Mean CAR over every (event, security) pair, the quantity Lemaire's Multiple reports as its last CAAR."""
    cars = [s.car for r in results for s in r.securities if s.car is not None]
    return float(np.mean(cars))


def lemaire(market: Market, pairs: list[tuple[int, str]]) -> tuple[float, float] | str:
    """Seconds and final CAAR of ``eventstudy`` 0.1a12 on the same returns (setup excluded), or why not."""
    try:
        import eventstudy as es
    except ImportError:
        return escape("not installed (pip install -e '.[bench]')")  # rich would read [bench] as markup
    data: dict[str, Any] = {"date": market.sessions.astype("datetime64[ns]"), "IDX": market.rm}
    data.update({sym: market.R[:, i] for i, sym in enumerate(market.symbols)})
    es.Single._save_parameter("returns", data)
    events = [
        {"event_date": market.sessions[row], "security_ticker": sym, "market_ticker": "IDX"} for row, sym in pairs
    ]
    holder: list[Any] = []

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its statsmodels/pandas calls warn under pandas 3; not our concern here
            holder.append(
                es.Multiple.from_list(
                    event_list=events,
                    event_study_model=es.Single.market_model,
                    event_window=WINDOW,
                    estimation_size=PARAMS.estimation,
                    buffer_size=PARAMS.gap,  # gives estimation [-265, -16], the same rows as ours
                )
            )

    seconds = best_of(1, run)
    agg = holder[-1]
    if agg.errors:
        return f"{len(agg.errors)} events failed in eventstudy"
    return seconds, float(agg.CAAR[-1])


def main() -> int:
    rows: list[Row] = []

    # 1. One date, 500 securities (the Entity List case: every ticker shares the announcement).
    one = Market(n=500, days=300)
    day0_row = 290
    series = one.at(day0_row)
    holder: list[EventResult] = []
    ours = best_of(7, lambda: holder.append(run_event(series, PARAMS)))
    result = holder[-1]
    assert result.aggregate.n == 500
    rows.append(Row("500 securities, one date, L1=250, all statistics but placebo", f"{ours * 1e3:.1f} ms",
                    "< 100 ms", ours < 0.1))  # fmt: skip

    deep = Market(n=500, days=900)
    placebo_params = PARAMS.with_(placebo_draws=500, placebo_lookback=500)
    deep_series = deep.at(880)
    with_placebo = best_of(3, lambda: run_event(deep_series, placebo_params))
    rows.append(Row("  the same with 500 placebo dates", f"{with_placebo * 1e3:.1f} ms", "", None))

    theirs = lemaire(one, [(day0_row, sym) for sym in one.symbols])
    if isinstance(theirs, str):
        rows.append(Row("  eventstudy 0.1a12, same 500 securities", theirs, "", None))
    else:
        seconds, caar = theirs
        rows.append(Row("  eventstudy 0.1a12, same 500 securities", f"{seconds * 1e3:.0f} ms", "", None))
        rows.append(Row("  speed ratio (eventstudy / ours)", f"{seconds / ours:.1f}x", "", None))
        diff = abs(caar - float(result.aggregate.caar or 0.0))
        rows.append(Row("  |CAAR ours - eventstudy|", f"{diff:.1e}", "< 1e-12", diff < 1e-12))

    # 2. 10,000 (event, security) pairs over 200 distinct dates, 50 securities each, from a 500-stock universe.
    many = Market(n=500, days=1500, seed=SEED + 1)
    rng = np.random.default_rng(SEED)
    dates = np.sort(rng.choice(np.arange(300, 1490), size=200, replace=False))
    picks = [sorted(rng.choice(500, size=50, replace=False).tolist()) for _ in dates]
    batches: list[list[EventResult]] = []

    def run_all() -> None:
        batches.append([run_event(many.at(int(row), cols), PARAMS) for row, cols in zip(dates, picks, strict=True)])

    total = best_of(3, run_all)
    results = batches[-1]
    pairs = sum(r.aggregate.n for r in results)
    rows.append(Row(f"{pairs:,} (event, security) pairs over {len(dates)} dates", f"{total:.2f} s", "< 3 s",
                    total < 3.0 and pairs == 10_000))  # fmt: skip
    theirs = lemaire(many, [(int(row), many.symbols[c]) for row, cols in zip(dates, picks, strict=True) for c in cols])
    if isinstance(theirs, str):
        rows.append(Row("  eventstudy 0.1a12, same pairs", theirs, "", None))
    else:
        seconds, caar = theirs
        rows.append(Row("  eventstudy 0.1a12, same pairs", f"{seconds:.2f} s", "", None))
        rows.append(Row("  speed ratio (eventstudy / ours)", f"{seconds / total:.1f}x", "", None))
        diff = abs(caar - pooled_caar(results))
        rows.append(Row("  |pooled CAAR ours - eventstudy|", f"{diff:.1e}", "< 1e-12", diff < 1e-12))

    ok = report("Event-study engine (monitor.study)", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
