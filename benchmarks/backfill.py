"""Backfill and report benchmark: 200 synthetic Entity List rules, 50 listed securities each, prices already stored.

Everything is synthetic and labelled so: a universe of 400 listings (New York, Shenzhen, Hong Kong) with
generated issuer names, 200 rules published every other week from 2013 to 2020 (saved Federal Register responses
written by ``tests/backfill/synthetic.py``, each naming 50 listed issuers, filed at 16:15 ET the business day
before publication), and daily prices 2010-2021 for every listing and benchmark (market-model returns with noise,
a few halts) loaded into the price store beforehand. The price source handed to the backfill records every call:
a store that already covers the range must not be asked for anything.

The backfill runs every stage for real: search (4 pages of saved responses), XML extraction, dating, matching,
the price-coverage check and 200 event studies (500 placebo dates each, the default), each with the clock at the
close of its event window. Then the report of all 200 events is written, twice: the second reuses the completed
events' charts kept by the first (as ``monitor report`` does between runs).

Run: ``python -m benchmarks.backfill``
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert

from benchmarks._table import Row, report
from monitor.backfill import BackfillRequest
from monitor.clock import SystemClock
from monitor.commands.compose import backfill as build_backfill
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables import DailyPrice
from monitor.feeds.schedule import is_posting_day
from monitor.feeds.wiring import build_clients, build_poller
from monitor.logs import configure_logging
from monitor.matching import save_securities
from monitor.models import Security
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import StaticSource
from monitor.report import write_report
from tests.backfill.synthetic import Entity, Rule, write_rules

RULES = 200
PER_RULE = 50
SEED = 20191007
EASTERN = ZoneInfo("America/New_York")
VENUES = (  # (count, suffix, mic, calendar, benchmark, currency)
    (220, "", "XNAS", "XNYS", "^GSPC", "USD"),
    (110, ".SZ", "XSHE", "XSHG", "000300.SS", "CNY"),
    (70, ".HK", "XHKG", "XHKG", "^HSI", "HKD"),
)
BENCHMARKS = {"^GSPC": "XNYS", "000300.SS": "XSHG", "^HSI": "XHKG"}
PRICES_FROM, PRICES_TO = date(2010, 1, 4), date(2021, 6, 30)
SYLLABLES = (
    "bao", "bei", "chang", "chen", "da", "dong", "fang", "feng", "gao", "guang", "hai", "hang", "hong", "hua", "jia",
    "jin", "kang", "lan", "li", "long", "mei", "ming", "nan", "ping", "qi", "rui", "shan", "sheng", "tai", "tian",
    "wei", "xin", "xing", "yang", "yi", "yong", "yuan", "zhen", "zhong",
)  # fmt: skip
DESCRIPTORS = ("Technology", "Electronics", "Semiconductor", "Optics", "Materials", "Software", "Instruments")


def universe(rng: random.Random) -> list[Security]:
    """Synthetic listings with distinct generated names (two-syllable brand, descriptor, legal form)."""
    securities: list[Security] = []
    used: set[str] = set()
    number = 0
    for count, suffix, mic, _calendar, benchmark, currency in VENUES:
        for _ in range(count):
            while True:
                brand = (rng.choice(SYLLABLES) + rng.choice(SYLLABLES)).capitalize()
                name = f"{brand} {rng.choice(DESCRIPTORS)} Co., Ltd."
                if brand not in used:
                    used.add(brand)
                    break
            number += 1
            symbol = {"": f"SY{number:03d}", ".SZ": f"{300000 + number:06d}.SZ", ".HK": f"{8000 + number:04d}.HK"}
            securities.append(
                Security(
                    symbol=symbol[suffix],
                    issuer_name=name,
                    aliases=(brand,),
                    exchange_mic=mic,
                    country="US" if not suffix else "CN",
                    currency=currency,
                    benchmark=benchmark,
                )
            )
    return securities


def store_prices(engine: object, securities: list[Security], settings: Settings, rng: np.random.Generator) -> int:
    """Daily bars for every listing and benchmark, written straight into the price store."""
    calendars = calendars_from_settings(settings)
    sessions = {cal: calendars.sessions(cal, PRICES_FROM, PRICES_TO) for cal in set(BENCHMARKS.values())}
    market = {bench: rng.normal(0.0003, 0.011, len(sessions[cal])) for bench, cal in BENCHMARKS.items()}
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []

    def add(symbol: str, calendar: str, returns: np.ndarray, currency: str, halts: np.ndarray | None) -> None:
        closes = 50.0 * np.cumprod(1.0 + returns)
        volume = np.full(len(closes), 1.0e6)
        if halts is not None:
            volume[halts] = 0.0
        for day, close, vol in zip(sessions[calendar].date, closes.tolist(), volume.tolist(), strict=True):
            rows.append(
                {"symbol": symbol, "date": day, "open": close, "high": close, "low": close, "close": close,
                 "adj_close": close, "volume": vol, "dividends": 0.0, "splits": 0.0, "currency": currency,
                 "source": "synthetic", "fetched_at": now}
            )  # fmt: skip

    for bench, calendar in BENCHMARKS.items():
        add(bench, calendar, market[bench], "USD", None)
    venue = {mic: (calendar, benchmark) for _, _, mic, calendar, benchmark, _ in VENUES}
    for security in securities:
        calendar, bench = venue[security.exchange_mic]
        beta = rng.uniform(0.6, 1.5)
        returns = beta * market[bench] + rng.normal(0, 0.018, len(market[bench]))
        halts = rng.random(len(returns)) < 0.004 if calendar == "XSHG" else None
        add(security.symbol, calendar, returns, security.currency, halts)
    with engine.begin() as connection:  # type: ignore[attr-defined]
        for start in range(0, len(rows), 50_000):
            connection.execute(insert(DailyPrice), rows[start : start + 50_000])
    return len(rows)


def rules(securities: list[Security], rng: random.Random) -> list[Rule]:
    """Rules every other week from 2013, each adding 50 listed issuers (and no one else)."""
    out: list[Rule] = []
    day = date(2013, 1, 8)
    for number in range(1, RULES + 1):
        while not is_posting_day(day) or not is_posting_day(day - timedelta(days=1)):
            day += timedelta(days=1)
        filed = datetime.combine(day - timedelta(days=1), clock_time(16, 15), tzinfo=EASTERN)
        chosen = rng.sample(securities, PER_RULE)
        entities = tuple(Entity(s.issuer_name, f"{number} Synthetic Road, China.") for s in chosen)
        out.append(Rule(f"{day.year}-{90000 + number}", day, filed, entities, start_page=10000 + number))
        day += timedelta(days=14)
    return out


def main() -> None:
    configure_logging("WARNING")
    directory = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    settings = Settings(data_dir=directory)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    py_rng, np_rng = random.Random(SEED), np.random.default_rng(SEED)
    securities = universe(py_rng)
    with sessions.begin() as session:
        save_securities(session, securities, source="synthetic")
    bars = store_prices(engine, securities, settings, np_rng)
    made = rules(securities, py_rng)
    feeds = write_rules(directory / "feeds", made, per_page=60)
    source = StaticSource({}, name="must-not-be-called")
    clients = build_clients(settings, source=f"dir:{feeds}", sleep=lambda _: None)
    marks: list[tuple[str, float]] = []

    class Marks:
        def begin(self, stage: str, total: int | None) -> None:
            marks.append((stage, time.perf_counter()))

        def advance(self, detail: str = "") -> None:
            return None

        def end(self, detail: str = "") -> None:
            return None

    runner = build_backfill(
        sessions,
        settings,
        calendars=calendars_from_settings(settings),
        poller=build_poller(settings, sessions, SystemClock(), clients),
        federal_register=clients.federal_register,
        price_source=source,
        clock=SystemClock(),
        progress=Marks(),
    )
    started = time.perf_counter()
    summary = runner.run(BackfillRequest(made[0].publication_date, made[-1].publication_date))
    total = time.perf_counter() - started
    stages = dict(marks)
    ends = [*[t for _, t in marks[1:]], started + total]
    spans = {stage: end - begin for (stage, begin), end in zip(marks, ends, strict=True)}
    charts = directory / "cache" / "charts"  # as the CLI: completed events' charts kept for the next report
    started = time.perf_counter()
    written = write_report(sessions, directory / "report", now=datetime.now(UTC), chart_cache=charts)
    report_seconds = time.perf_counter() - started
    started = time.perf_counter()
    write_report(sessions, directory / "report-again", now=datetime.now(UTC), chart_cache=charts)
    again_seconds = time.perf_counter() - started
    studies = summary.studies
    per_rule = sum(studies.values()) / max(summary.rules, 1)
    rows = [
        Row("universe / stored bars (synthetic)", f"{len(securities)} / {bars:,}", ""),
        Row("rules × securities studied", f"{summary.rules} × {per_rule:.0f}", f"{RULES} × {PER_RULE}", per_rule == 50),
        Row("studies complete", str(studies.get("complete", 0)), f"{RULES * PER_RULE}"),
        Row("price source calls (store already covers the range)", str(len(source.calls)), "0", not source.calls),
        *[Row(f"  stage: {stage}", f"{spans[stage]:.2f} s", "") for stage in stages],
        Row("backfill, all stages", f"{total:.2f} s", "< 15 s", total < 15),
        Row(f"report ({written.events} events, {written.rows:,} rows)", f"{report_seconds:.2f} s", "< 5 s",
            report_seconds < 5),
        Row("report again (completed events' charts cached)", f"{again_seconds:.2f} s", "< report",
            again_seconds < report_seconds),
    ]  # fmt: skip
    report("Backfill and report (synthetic rules, universe and prices)", rows)


if __name__ == "__main__":
    main()
