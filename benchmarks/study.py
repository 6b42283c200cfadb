"""Event-study engine speed and memory, side by side in one run with plain numpy and Lemaire's ``eventstudy``.

    python -m benchmarks.study

Inputs are a seeded synthetic market (market-model stocks with a common residual factor, weekday sessions; for the
two-calendar rows half the stocks trade on a second calendar with its own holidays), so every run measures the
same work. The reference is plain numpy of the same statistics written the way a numpy user would: one event at a
time on a complete one-calendar panel (market model, ARs, exact CAR variances, t and p of every window, BHAR, the
eight event-level tests, daily AAR tests). Targets: engine / numpy ≤ 2.0 at 10,000 and 100,000 (event, security)
pairs, peak extra memory at 100,000 pairs ≤ 100 MB with every result kept, at least 3× faster than ``eventstudy``,
500 securities on one date under 100 ms and 10,000 pairs under 3 s with calendar-date alignment. The numbers must
agree with the numpy reference (and the CAAR with ``eventstudy``) to 1e-12. ``eventstudy`` is optional
(``pip install -e '.[bench]'``); without it those rows say so.
"""

from __future__ import annotations

import gc
import tracemalloc
import warnings
from datetime import date
from typing import Any

import numpy as np
from rich.markup import escape
from scipy import special

from benchmarks._table import Row, best_of, report
from monitor.study import EventResult, SecuritySeries, StudyParams, run_event
from monitor.study.book import Pairs, SeriesBook
from monitor.study.engine import run_events

SEED = 20191007
PARAMS = StudyParams()  # market model, L1 = 250, gap 10, window [-5, +5], no placebo
WINDOW = PARAMS.window
SUBS = PARAMS.windows_in_range


class Market:
    """Weekday sessions, one benchmark and N market-model stocks; ``holidays`` moves the second half of the stocks
    onto a calendar closed on that many extra weekdays a year (their own index, the same news)."""

    def __init__(self, n: int, days: int, seed: int = SEED, holidays: int = 0) -> None:
        rng = np.random.default_rng(seed)
        start = np.datetime64("2012-01-02")
        calendar = np.arange(start, start + days * 2)
        self.sessions = calendar[((calendar.view("int64") + 3) % 7) < 5][:days]
        self.rm = rng.normal(0.0004, 0.011, days)
        beta = rng.uniform(0.5, 1.8, n)
        noise = rng.normal(0.0, 0.02, (days, n)) + 0.3 * rng.normal(0.0, 0.02, (days, 1))
        self.R = rng.normal(0.0002, 0.0005, n) + np.outer(self.rm, beta) + noise
        self.symbols = [f"S{i:03d}" for i in range(n)]
        open_ = np.ones(days, dtype=bool)
        if holidays:
            closed = rng.choice(days, size=days * holidays // 250, replace=False)
            open_[closed] = False
        self.series = [self._series(i, open_ if holidays and i >= n // 2 else None) for i in range(n)]

    def _series(self, i: int, open_: np.ndarray | None) -> SecuritySeries:
        keep = np.ones(len(self.sessions), dtype=bool) if open_ is None else open_
        ret, bench = self.R[keep, i].copy(), self.rm[keep].copy()
        spans = np.ones(len(ret), dtype=np.int64)
        ret[0], bench[0], spans[0] = np.nan, np.nan, 0
        benchmark = "IDX" if open_ is None else "IDX2"
        halted = np.zeros(len(ret), dtype=bool)
        return SecuritySeries(self.symbols[i], benchmark, None, self.sessions[keep], ret, bench, spans, halted)

    def day(self, row: int) -> date:
        value: date = self.sessions[row].astype(object)
        return value

    def at(self, row: int, columns: list[int] | None = None) -> list[SecuritySeries]:
        """The chosen securities with day 0 on session ``row`` (a cheap copy: arrays are shared)."""
        day0 = self.day(row)
        picked = range(len(self.series)) if columns is None else columns
        return [self.series[i].at(day0) for i in picked]


def numpy_reference(R: np.ndarray, rm: np.ndarray, e: int) -> dict[str, np.ndarray]:
    """Every statistic of one event in plain numpy (§1.5's sketch, extended to the sub-windows): complete panel."""
    w0, w1 = WINDOW
    gap, L1, N = PARAMS.gap, PARAMS.estimation, R.shape[1]
    est, evt = slice(e + w0 - gap - L1, e + w0 - gap), slice(e + w0, e + w1 + 1)
    me = rm[est]
    mbar = me.mean()
    dm = me - mbar
    smm = dm @ dm
    re = R[est]
    beta = dm @ (re - re.mean(0)) / smm
    alpha = re.mean(0) - beta * mbar
    resid = re - alpha - np.outer(me, beta)
    s2 = (resid * resid).sum(0) / (L1 - 2)
    expected = alpha + np.outer(rm[evt], beta)
    ar = R[evt] - expected
    var_ar = s2 * (1 + 1 / L1 + ((rm[evt] - mbar) ** 2 / smm)[:, None])
    wins = [WINDOW, *SUBS]
    a = np.array([x - w0 for x, _ in wins])
    b = np.array([y - w0 + 1 for _, y in wins])
    length = (b - a).astype(float)
    cum = np.vstack([np.zeros(N), np.cumsum(ar, 0)])
    car = cum[b] - cum[a]
    dmw = np.concatenate([[0.0], np.cumsum(rm[evt] - mbar)])
    var_car = s2[None, :] * (length + length**2 / L1 + (dmw[b] - dmw[a]) ** 2 / smm)[:, None]
    t = car / np.sqrt(var_car)
    p = 2 * special.stdtr(L1 - 2, -np.abs(t))
    grow = np.vstack([np.zeros(N), np.cumsum(np.log1p(R[evt]), 0)])
    norm = np.vstack([np.zeros(N), np.cumsum(np.log1p(expected), 0)])
    bhar = np.exp(grow[b] - grow[a]) - np.exp(norm[b] - norm[a])
    caar = car.mean(1)
    t_cs = caar / (car.std(1, ddof=1) / np.sqrt(N))
    patell = t.sum(1) / np.sqrt(N * (L1 - 2) / (L1 - 4))
    bmp = t.mean(1) / (t.std(1, ddof=1) / np.sqrt(N))
    z = resid - resid.mean(0)
    z /= np.sqrt((z * z).sum(0))
    u = z.sum(1)
    rbar = (u @ u - N) / (N * (N - 1))
    kp = bmp * np.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
    portfolio = caar / (resid.mean(1).std(ddof=1) * np.sqrt(length))
    pooled = np.vstack([resid, ar])
    ranks = (pooled.argsort(0).argsort(0) + 1.0) / (L1 + len(ar) + 1) - 0.5
    mean_rank = ranks.mean(1)
    scale = np.sqrt((mean_rank**2).mean())
    cu = np.concatenate([[0.0], np.cumsum(mean_rank[L1:])])
    rank = (cu[b] - cu[a]) / (np.sqrt(length) * scale)
    share = (resid > 0).mean()
    sign = ((car > 0).sum(1) - N * share) / np.sqrt(N * share * (1 - share))
    sar = ar / np.sqrt(var_ar)
    aar = ar.mean(1)
    aar_t = aar / (ar.std(1, ddof=1) / np.sqrt(N))
    aar_bmp = sar.mean(1) / (sar.std(1, ddof=1) / np.sqrt(N))
    p_values = [2 * special.stdtr(N - 1, -np.abs(x)) for x in (t_cs, bmp, kp, aar_t, aar_bmp)]
    p_values += [special.erfc(np.abs(x) / np.sqrt(2)) for x in (patell, rank, sign)]
    p_values += [2 * special.stdtr(L1 - 1, -np.abs(portfolio))]
    return {"car": car, "var_car": var_car, "p": p, "bhar": bhar, "caar": caar, "kp": kp, "portfolio": portfolio,
            "rank": rank, "t_cs": t_cs, "patell": patell, "aar": aar, "aar_t": aar_t}  # fmt: skip


def worst_difference(market: Market, events: list[tuple[int, list[int]]], ours: list[EventResult]) -> float:
    """Largest |ours − numpy| over every event's CAAR, KP t, portfolio t, rank Z, CS t, Patell Z, daily AAR and t
    and every pair's CAR, variance and BHAR (main window)."""
    worst = 0.0
    for (row, cols), result in zip(events, ours, strict=True):
        ref = numpy_reference(market.R[:, cols], market.rm, row)
        agg = result.aggregate
        subs = [agg.tests, *agg.sub_windows.values()]
        pairs = [
            ([w.caar for w in subs], ref["caar"]),
            ([w.kp_bmp_t.value for w in subs], ref["kp"]),
            ([w.portfolio_t.value for w in subs], ref["portfolio"]),
            ([w.rank_z.value for w in subs], ref["rank"]),
            ([w.cross_sectional_t.value for w in subs], ref["t_cs"]),
            ([w.patell_z.value for w in subs], ref["patell"]),
            ([d.aar for d in agg.aar], ref["aar"]),
            ([d.t for d in agg.aar], ref["aar_t"]),
        ]
        if len(events) <= 200:
            secs = result.securities
            pairs += [([s.car for s in secs], ref["car"][0]), ([s.car_variance for s in secs], ref["var_car"][0]),
                      ([s.bhar for s in secs], ref["bhar"][0])]  # fmt: skip
        for values, expected in pairs:
            got = np.array(values, dtype=float)
            scale = np.maximum(np.abs(expected), 1.0)
            worst = max(worst, float(np.max(np.abs(got - expected) / scale)))
    return worst


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


def draw(market: Market, events: int, per_event: int, seed: int) -> list[tuple[int, list[int]]]:
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.arange(300, len(market.sessions) - 10), size=events, replace=events > 1000))
    n = len(market.symbols)
    return [(int(row), sorted(rng.choice(n, size=per_event, replace=False).tolist())) for row in rows]


def batch(market: Market, events: list[tuple[int, list[int]]]) -> tuple[SeriesBook, Pairs]:
    """The engine's batch inputs: the book of every security once, and the (event, security, day 0) pairs."""
    sizes = [len(cols) for _, cols in events]
    event = np.repeat(np.arange(len(events)), sizes)
    security = np.concatenate([np.asarray(cols, dtype=np.int64) for _, cols in events])
    dates = np.repeat(market.sessions[[row for row, _ in events]].astype("datetime64[D]"), sizes)
    book = SeriesBook.of(market.series)
    # Day 0 is each security's first session on or after the event date (its own calendar may be closed that day).
    at = np.searchsorted(book.keys, security * (1 << 32) + dates.view(np.int64))
    return book, Pairs(event, security, book.sessions[at].astype("datetime64[D]"))


def peak_mb(func: Any) -> float:
    """Peak traced allocation while ``func`` runs and its result is still held, in MB (numpy buffers included)."""
    gc.collect()
    tracemalloc.start()
    try:
        kept = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept
    return peak / 1e6


def compare(rows: list[Row], label: str, market: Market, events: list[tuple[int, list[int]]], repeats: int,
            target_s: float | None, memory: bool) -> list[EventResult]:  # fmt: skip
    book, pairs = batch(market, events)
    holder: list[list[EventResult]] = []
    ours = best_of(repeats, lambda: holder.append(run_events(book, pairs, PARAMS)))
    plain = best_of(repeats, lambda: [numpy_reference(market.R[:, c], market.rm, r) for r, c in events])
    results = holder[-1]
    ok = target_s is None or ours < target_s
    rows.append(Row(f"{len(pairs):,} pairs over {len(events):,} events: engine", f"{ours:.2f} s",
                    f"< {target_s:g} s" if target_s else "", ok if target_s else None))  # fmt: skip
    rows.append(Row("  plain numpy, same statistics, one event at a time", f"{plain:.2f} s", "", None))
    rows.append(Row("  engine / numpy", f"{ours / plain:.2f}", "≤ 2.0", ours / plain <= 2.0))
    if memory:
        ours_mb = peak_mb(lambda: run_events(book, pairs, PARAMS))
        plain_mb = peak_mb(lambda: [numpy_reference(market.R[:, c], market.rm, r) for r, c in events])
        rows.append(Row("  peak extra memory, every result kept: engine", f"{ours_mb:.0f} MB", "≤ 100 MB",
                        ours_mb <= 100))  # fmt: skip
        rows.append(Row("  peak extra memory: numpy reference", f"{plain_mb:.0f} MB", "", None))
    diff = worst_difference(market, events, results)
    rows.append(Row("  max relative |engine − numpy| (CARs, tests, AARs)", f"{diff:.1e}", "< 1e-12", diff < 1e-12))
    return results


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
        rows.append(Row("  speed ratio (eventstudy / ours)", f"{seconds / ours:.1f}x", "≥ 3x", seconds / ours >= 3))
        diff = abs(caar - float(result.aggregate.caar or 0.0))
        rows.append(Row("  |CAAR ours - eventstudy|", f"{diff:.1e}", "< 1e-12", diff < 1e-12))

    # 2. 10,000 (event, security) pairs over 200 dates, 50 securities each, from a 500-stock universe.
    many = Market(n=500, days=1500, seed=SEED + 1)
    events = draw(many, 200, 50, SEED)
    results = compare(rows, "10k", many, events, 3, 3.0, memory=False)
    theirs = lemaire(many, [(row, many.symbols[c]) for row, cols in events for c in cols])
    if isinstance(theirs, str):
        rows.append(Row("  eventstudy 0.1a12, same pairs", theirs, "", None))
    else:
        seconds, caar = theirs
        ours_10k = best_of(1, lambda: run_events(*batch(many, events), PARAMS))
        rows.append(Row("  eventstudy 0.1a12, same pairs", f"{seconds:.2f} s", "", None))
        rows.append(Row("  speed ratio (eventstudy / ours)", f"{seconds / ours_10k:.1f}x", "≥ 3x",
                        seconds / ours_10k >= 3))  # fmt: skip
        pooled = float(np.mean([s.car for r in results for s in r.securities if s.car is not None]))
        diff = abs(caar - pooled)
        rows.append(Row("  |pooled CAAR ours - eventstudy|", f"{diff:.1e}", "< 1e-12", diff < 1e-12))

    # 3. The same on two calendars: half the stocks on an exchange closed ~12 extra weekdays a year, so every
    #    event's dependence estimates pair residuals by calendar date (the general path).
    two = Market(n=500, days=1500, seed=SEED + 1, holidays=12)
    book, pairs = batch(two, events)
    aligned = best_of(3, lambda: run_events(book, pairs, PARAMS))
    rows.append(Row("10,000 pairs on two calendars (calendar-date alignment)", f"{aligned:.2f} s", "< 3 s",
                    aligned < 3.0))  # fmt: skip

    # 4. 100,000 pairs: 2,000 events × 50 securities.
    large = draw(many, 2000, 50, SEED + 2)
    compare(rows, "100k", many, large, 1, None, memory=True)

    ok = report("Event-study engine (monitor.study)", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
