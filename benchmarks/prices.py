"""Prices benchmark: loading and refreshing the store, day 0 at scale, and returns for 500 securities.

Run ``python -m benchmarks.prices``. Uses the real bundled prices (../shared/data/prices) and a fresh SQLite
database in a temporary directory; ``MONITOR_BENCH_POSTGRES_URL`` adds the same store figures on PostgreSQL.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

from benchmarks._table import Row, best_of, report, timed
from monitor.clock import SimulatedClock
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.logs import configure_logging
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing
from monitor.prices.returns import returns_panel
from monitor.prices.sources import CsvDirectorySource
from monitor.prices.store import PriceStore
from tests.paths import SHARED_DATA

PRICES = SHARED_DATA / "prices"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _store_rows(
    url: str, label: str, source: CsvDirectorySource, calendars: Calendars, schema: str | None
) -> list[Row]:
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    store = PriceStore(session_factory(engine), calendars, clock=SimulatedClock(NOW))
    symbols = source.symbols()
    with timed() as load:
        results = store.refresh_many(symbols, source)
    rows = sum(r.written for r in results)
    with timed() as refresh:
        again = store.refresh_many(symbols, source)
    assert all(r.status == "ok" and r.mode == "incremental" for r in again), again
    with timed() as read:
        bars = store.bars_many(symbols)
    engine.dispose()
    return [
        Row(f"{label}: first load, {len(symbols)} tickers, {rows:,} bars", f"{load[0]:.2f} s", "< 10 s", load[0] < 10),
        Row(f"{label}: load throughput", f"{rows / load[0]:,.0f} bars/s", "", None),
        Row(f"{label}: incremental refresh of all tickers", f"{refresh[0]:.2f} s", "< 2.5 s", refresh[0] < 2.5),
        Row(
            f"{label}: read back all bars ({sum(len(b) for b in bars.values()):,})",
            f"{read[0]:.2f} s",
            "< 2.5 s",
            read[0] < 2.5,
        ),
    ]


def main() -> int:
    configure_logging("WARNING")  # one line per refreshed ticker would bury the table
    source = CsvDirectorySource(PRICES)
    rows: list[Row] = []

    with timed() as cold:
        calendars = Calendars()
        for name in ("XNYS", "XSHG", "XHKG"):
            calendars.calendar(name)
    rows.append(Row("build XNYS + XSHG + XHKG calendars (2000 → +2 y), cold", f"{cold[0]:.2f} s", "< 3 s", cold[0] < 3))

    with timed() as csv_time:
        frames = {symbol: source.history(symbol) for symbol in source.symbols()}
    total = sum(len(f) for f in frames.values())
    rows.append(
        Row(f"read all {len(frames)} CSV files ({total:,} bars)", f"{csv_time[0]:.2f} s", "< 2 s", csv_time[0] < 2)
    )

    with tempfile.TemporaryDirectory() as tmp:
        rows += _store_rows(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", source, calendars, None)
    postgres = os.environ.get("MONITOR_BENCH_POSTGRES_URL")
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = make_engine(postgres)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            rows += _store_rows(postgres, "PostgreSQL", source, calendars, schema)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    # day 0 for 10,000 (symbol, announcement time) pairs across the three calendars, 2010-2025.
    rng = random.Random(20191007)
    symbols = ["AMBA", "002415.SZ", "0981.HK", "NVDA", "300188.SZ", "0763.HK"]
    start = datetime(2010, 1, 1, tzinfo=UTC)
    pairs = [(rng.choice(symbols), start + timedelta(minutes=rng.randrange(15 * 365 * 24 * 60))) for _ in range(10_000)]

    def day0_vectorised() -> None:
        by_calendar: dict[str, list[datetime]] = {}
        for symbol, moment in pairs:
            by_calendar.setdefault(listing(symbol).calendar, []).append(moment)
        for name, moments in by_calendar.items():
            calendars.day0_many(name, moments)

    vectorised = best_of(5, day0_vectorised)
    rows.append(
        Row(
            "day 0 for 10,000 (symbol, time) pairs, day0_many",
            f"{vectorised * 1000:.1f} ms",
            "< 50 ms",
            vectorised < 0.05,
        )
    )
    one_by_one = best_of(3, lambda: [calendars.day0(symbol, moment) for symbol, moment in pairs])
    rows.append(
        Row("day 0 for 10,000 pairs, one call each", f"{one_by_one * 1000:.0f} ms", "< 250 ms", one_by_one < 0.25)
    )

    # returns for 500 securities over ten years of XNYS sessions: the bundled US series, re-based and shuffled.
    sessions = calendars.sessions("XNYS", date(2013, 1, 2), date(2022, 12, 30))
    us = [
        f
        for s, f in frames.items()
        if listing(s).calendar == "XNYS" and not listing(s).is_index and not f.loc["2013":"2022"].empty
    ]
    panel_input: dict[str, pd.DataFrame] = {}
    for number in range(500):
        base = us[number % len(us)].loc["2013":"2022"].copy()
        drop = np.random.default_rng(number).random(len(base)) < 0.01  # 1 % missing bars: halts to handle
        base = base[~drop]
        base["adj_close"] *= 1 + number / 1000
        panel_input[f"S{number:03d}"] = base
    panel_time = best_of(3, lambda: returns_panel(panel_input, sessions))
    panel = returns_panel(panel_input, sessions)
    halts = int(panel.halted.sum())
    rows.append(
        Row(
            f"returns for 500 securities × {len(sessions):,} sessions ({halts:,} halts)",
            f"{panel_time * 1000:.0f} ms",
            "< 500 ms",
            panel_time < 0.5,
        )
    )
    ok = report("prices: store, day 0, returns", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
