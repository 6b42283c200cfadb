"""``monitor study``: an event study of one announcement for a list of securities, from files or the price store."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor.commands._common import app_context, err_console, print_json
from monitor.commands._table import Column, emit, text_line
from monitor.errors import InputError

if TYPE_CHECKING:
    from monitor.bootstrap import AppContext
    from monitor.pipeline.bars import BarReader
    from monitor.pipeline.studies import EventTime, StudyRun, Subject
    from monitor.study import Statistic, WindowCar

HEADLINE = ("kp_bmp_t", "portfolio_t", "rank_z")  # robust to the shared event date (methods note §0)
TEST_NAMES = {
    "kp_bmp_t": "Kolari–Pynnönen BMP t",
    "portfolio_t": "Brown–Warner portfolio t",
    "rank_z": "Corrado rank Z (window)",
    "rank_z_day0": "Corrado rank Z (day 0)",
    "bmp_t": "BMP t",
    "cross_sectional_t": "cross-sectional t",
    "patell_z": "Patell Z",
    "generalized_sign_z": "generalized sign Z",
}


def parse_window(text: str) -> tuple[int, int]:
    try:
        first, last = (int(part) for part in text.replace(" ", "").strip("[]()").split(","))
    except ValueError:
        raise InputError(f"--window {text!r}: expected FIRST,LAST such as -5,5") from None
    return first, last


def parse_subjects(symbols: str, benchmark: str | None) -> list[Subject]:
    """``--symbols A,B`` with ``--benchmark ^GSPC`` (all) or ``--benchmark A=^GSPC,B=000300.SS`` (per symbol)."""
    from monitor.pipeline.studies import Subject
    from monitor.prices.exchanges import normalise_symbol, refuse_unknown_suffix

    names = [normalise_symbol(s) for s in symbols.split(",") if s.strip()]
    for name in names:
        refuse_unknown_suffix(name)
    if not names:
        raise InputError("--symbols: give at least one symbol, e.g. AMBA,002415.SZ")
    common: str | None = None
    pairs: dict[str, str] = {}
    for part in (benchmark or "").split(","):
        if not part.strip():
            continue
        if "=" in part:
            symbol, _, bench = part.partition("=")
            pairs[normalise_symbol(symbol)] = normalise_symbol(bench)
        elif common is None:
            common = normalise_symbol(part)
        else:
            raise InputError(f"--benchmark {benchmark!r}: one symbol for all, or SYMBOL=BENCHMARK pairs")
    unknown = sorted(set(pairs) - set(names))
    if unknown:
        raise InputError(f"--benchmark names {', '.join(unknown)}, which --symbols does not list")
    return [Subject(name, benchmark=pairs.get(name, common)) for name in names]


def study(
    ctx: typer.Context,
    event_time: str = typer.Option(
        ...,
        "--event-time",
        help="Announcement, ISO 8601 with offset (2019-10-07T20:30:00Z); a bare date means before that day's open.",
    ),
    symbols: str = typer.Option(..., "--symbols", help="Comma-separated Yahoo symbols: AMBA,002415.SZ,0981.HK."),
    benchmark: str | None = typer.Option(
        None,
        "--benchmark",
        help="Benchmark for all (^GSPC), or per symbol (AMBA=^GSPC,002415.SZ=000300.SS); "
        "default: each exchange's local index.",
    ),
    prices_dir: Path | None = typer.Option(
        None, "--prices-dir", file_okay=False, help="Read SYMBOL.csv files here instead of the price store."
    ),
    model: str | None = typer.Option(None, "--model", help="market, market-adjusted or constant-mean."),
    estimation: int | None = typer.Option(None, "--estimation", help="Estimation window L1, sessions (250)."),
    gap: int | None = typer.Option(None, "--gap", help="Sessions between estimation and event window (10)."),
    window: str | None = typer.Option(None, "--window", help="Event window FIRST,LAST, e.g. -5,5 (or --window=-5,5)."),
    placebo: int | None = typer.Option(None, "--placebo", help="Placebo dates for the CAAR p-value; 0 turns it off."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for the placebo dates."),
    exclude_dates: str | None = typer.Option(
        None, "--exclude-dates", help="Sessions kept out of estimation (known leaks): 2019-05-16,2019-05-17 …"
    ),
    min_estimation: int | None = typer.Option(
        None, "--min-estimation", help="Fewest valid estimation returns (120); a shorter --estimation is refused."
    ),
    include_partial: bool = typer.Option(
        False, "--include-partial", help="Let windows not yet complete into the tests (flagged)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the study as JSON (fractions, not percent)."),
) -> None:
    """Event study of one announcement: abnormal returns, CARs with exact variances, and clustering-robust tests.

    Without --prices-dir the bars come from the price store, fetching what is missing from prices.source.
    Exit 0 when every security was studied, 1 when some could not be (each listed with its reason), 2 on bad usage.
    """
    from monitor.pipeline.studies import EventTime, run
    from monitor.prices.calendars import calendars_from_settings
    from monitor.study import StudyParams

    context = app_context(ctx)
    settings = context.settings
    when = EventTime.parse(event_time)
    subjects = from_database(context, parse_subjects(symbols, benchmark), when)
    params = StudyParams.from_settings(
        settings.study,
        model=model,
        estimation=estimation,
        gap=gap,
        window=parse_window(window) if window is not None else None,
        placebo_draws=placebo,
        placebo_seed=seed,
        min_estimation=min_estimation,
        include_partial=include_partial or None,
        exclude_dates=parse_dates(exclude_dates) if exclude_dates else None,
    )
    result = run(subjects, when, params, _bars(ctx, prices_dir, len(subjects)), calendars_from_settings(settings))
    from monitor.models import MEASURED_STUDY_STATUSES  # here, not at import: `monitor --help` stays light

    measured = {status.value for status in MEASURED_STUDY_STATUSES}
    missing = [s for s in result.result.securities if s.status not in measured]
    if as_json:
        print_json(result.to_dict())
    elif len(missing) < len(result.result.securities):
        show(result)
    else:  # tables of dashes help nobody: say what is missing and how to get it
        err_console.print(f"nothing to study: no security has the prices the {result.when.label} event needs")
    for s in missing:
        err_console.print(f"not studied: {s.symbol}: {s.status.replace('_', ' ')}: {s.reason or ''}".rstrip(": "))
    if missing and not as_json:
        err_console.print(_hint(prices_dir, [s.symbol for s in missing]))
    if missing:
        raise typer.Exit(1)


def _hint(prices_dir: Path | None, symbols: list[str]) -> str:
    """Where the prices of ``symbols`` would come from, and the command that gets them."""
    if prices_dir is not None:
        example = prices_dir / f"{symbols[0]}.csv"
        return (
            f"hint: --prices-dir reads one SYMBOL.csv per symbol (here {example}) with a date,open,high,low,close"
            ",adj_close,volume header; check the symbol's spelling (Yahoo style: AMBA, 002415.SZ, 0981.HK)"
        )
    return (
        f"hint: `monitor prices fetch {' '.join(symbols)}` loads them into the price store from prices.source "
        "(or pass --prices-dir DIR of SYMBOL.csv files); check the symbol's spelling (Yahoo style: AMBA, 002415.SZ)"
    )


def from_database(context: AppContext, subjects: list[Subject], when: EventTime) -> list[Subject]:
    """The subjects with what the database knows of them, so ``monitor study`` gives the numbers the stored studies
    and the report show: the universe's listing dates (``listed_later``/``delisted``) and the day 0s of the same
    securities' earlier stored events (their windows stay out of estimation). An embedded database that does not
    exist yet is not created for this, and one that cannot be read leaves the subjects as given."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from sqlalchemy import select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.db.tables import EventRow, SecurityRow, Study
    from monitor.errors import MonitorError

    url = make_url(context.settings.effective_database_url)
    if url.drivername.startswith("sqlite") and (not url.database or not Path(url.database).exists()):
        return subjects
    symbols = [s.symbol for s in subjects]
    cutoff = when.instant
    if cutoff is None:  # a bare date: before that day's open, so events announced before the date began
        assert when.day is not None
        cutoff = datetime(when.day.year, when.day.month, when.day.day, tzinfo=UTC)
    try:
        with context.sessions()() as session:
            listed = session.execute(
                select(SecurityRow.symbol, SecurityRow.listed_on, SecurityRow.delisted_on).where(
                    SecurityRow.symbol.in_(symbols)
                )
            ).all()
            earlier = session.execute(
                select(Study.symbol, Study.day0)
                .join(EventRow, EventRow.id == Study.event_id)
                .where(Study.symbol.in_(symbols), Study.day0.is_not(None), EventRow.announced_at < cutoff)
            ).all()
    except (MonitorError, SQLAlchemyError):
        return subjects
    dates = {str(symbol): (first, last) for symbol, first, last in listed}
    day0s: dict[str, set[date]] = {}
    for symbol, day0 in earlier:
        if day0 is not None:
            day0s.setdefault(str(symbol), set()).add(day0)
    out = []
    for s in subjects:
        first, last = dates.get(s.symbol, (None, None))
        out.append(replace(s, listed_on=first, delisted_on=last, earlier_day0s=tuple(sorted(day0s.get(s.symbol, ())))))
    return out


def parse_dates(text: str) -> tuple[date, ...]:
    """``--exclude-dates 2019-05-16,2019-05-17``."""
    try:
        return tuple(date.fromisoformat(part.strip()) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(f"--exclude-dates {text!r}: expected YYYY-MM-DD dates separated by commas") from None


def _bars(ctx: typer.Context, prices_dir: Path | None, count: int) -> BarReader:
    from monitor.pipeline.bars import SourceBars, StoreBars

    if prices_dir is not None:
        from monitor.prices.sources import CsvDirectorySource

        return SourceBars(CsvDirectorySource(prices_dir, option="--prices-dir"))
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from monitor.clock import SystemClock
    from monitor.commands.compose import make_source
    from monitor.prices.store import PriceStore

    context = app_context(ctx)
    settings = context.settings
    clock = SystemClock()
    store = PriceStore.from_settings(context.sessions(), settings, clock=clock)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True)
    task = progress.add_task("checking the price store", total=None)

    def fetched(result: Any) -> None:
        progress.start()
        progress.update(task, description=f"fetched {result.symbol}: {result.status}")

    ctx.call_on_close(progress.stop)
    return StoreBars(store, make_source(settings.prices.source, settings=settings), clock=clock, on_fetch=fetched)


# --- the human-readable report ------------------------------------------------------------------------------------


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:+.{digits}f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def _p(value: float | None) -> str:
    return "—" if value is None else (f"{value:.3f}" if value >= 0.001 else f"{value:.1e}")


def _car(window: WindowCar | None) -> str:
    return "—" if window is None or window.car is None else f"{_pct(window.car)} ({_num(window.t)})"


def show(result: StudyRun) -> None:
    """The study as tables that fit the terminal (identifiers whole), or tab-separated when piped."""
    params = result.result.params
    first, last = params.window
    text_line(
        f"[bold]Event study[/bold] {result.when.label}: {params.model} model, estimation {params.estimation} "
        f"sessions, gap {params.gap}, window [{first:+d},{last:+d}]"
    )
    securities = result.result.securities
    emit(
        [
            Column("symbol", identifier=True),
            Column("bench", identifier=True, drop=2),
            Column("day 0", identifier=True),
            Column("status"),
            Column("alpha", justify="right", drop=1),
            Column("beta", justify="right"),
            Column("sigma", justify="right"),
            Column("n", justify="right"),
        ],
        [
            [
                s.symbol, s.benchmark, s.day0.isoformat() if s.day0 else "—", s.status, _pct(s.alpha, 3),
                _num(s.beta), _pct(s.sigma), str(s.n_estimation) if s.n_estimation is not None else "—",
            ]
            for s in securities
        ],
        title="Normal-return model",
    )  # fmt: skip
    notes: list[str] = []
    rows = []
    for s in securities:
        cells = [_car(s.sub_windows.get(label)) for label in ("[0,0]", "[0,1]", "[-1,1]")]
        whole = "—" if s.car is None else f"{_pct(s.car)} ({_num(s.car_t)})"
        rows.append([s.symbol, *cells, whole, _pct(s.bhar)])
        if s.reason:
            notes.append(f"{s.symbol}: {s.reason}")
        if s.day0_halted and s.reaction_date:
            notes.append(f"{s.symbol}: halted on day 0; its day-0 reaction is the return to {s.reaction_date}")
    emit(
        [
            Column("symbol", identifier=True),
            *(Column(name, justify="right") for name in ("day 0", "[0,+1]", "[-1,+1]", f"[{first:+d},{last:+d}]")),
            Column("BHAR", justify="right", drop=1),
        ],
        rows,
        title="Reaction: abnormal returns (t)",
    )
    if len(securities) <= 6:
        _show_days(result)
    aggregate = result.result.aggregate
    emit(
        [Column(name, justify="right") for name in ("day", "AAR", "n", "t", "BMP t")],
        [[f"{d.rel_day:+d}", _pct(d.aar), str(d.n), _num(d.t), _num(d.bmp_t)] for d in aggregate.aar],
        title=f"AAR (N = {aggregate.n})",
    )
    _show_tests(result)
    for note in notes:
        text_line(f"[yellow]note[/yellow] {note}")


def _show_days(result: StudyRun) -> None:
    securities = [s for s in result.result.securities if s.days]
    rels = sorted({d.rel_day for s in securities for d in s.days})
    rows = []
    for rel in rels:
        cells = []
        for s in securities:
            day = next((d for d in s.days if d.rel_day == rel), None)
            if day is None:
                cells.append("")
            elif day.ar is None:
                cells.append("halted" if day.halted else "—")
            else:
                span = f" k={day.sessions}" if day.sessions > 1 else ""
                cells.append(f"{_pct(day.ar)} ({_num(day.ar_t)}){span}")
        rows.append([f"{rel:+d}", *cells])
    emit(
        [Column("day", identifier=True, justify="right"), *(Column(s.symbol, justify="right") for s in securities)],
        rows,
        title="Abnormal returns by event day (k = sessions a trade-to-trade return spans)",
    )


def _show_tests(result: StudyRun) -> None:
    aggregate = result.result.aggregate
    tests = aggregate.tests
    first, last = tests.window
    rows: list[list[str]] = []
    named: list[tuple[str, Statistic]] = [(name, tests.statistic(name)) for name in HEADLINE]
    named += [("rank_z_day0", aggregate.rank_z_day0)]
    named += [
        (name, tests.statistic(name)) for name in ("bmp_t", "cross_sectional_t", "patell_z", "generalized_sign_z")
    ]
    for name, stat in named:
        mark = " *" if name in HEADLINE else ""
        if tests.n_too_small:  # a t on two or three securities is not a headline
            rows.append([TEST_NAMES[name] + mark, f"n too small (n = {tests.n})", ""])
            continue
        rows.append([TEST_NAMES[name] + mark, _num(stat.value), _p(stat.p_value)])
    placebo = aggregate.placebo
    if placebo is not None:
        shown = _p(placebo.p_value) if placebo.p_value is not None else (placebo.note or "—")
        rows.append([f"placebo dates ({placebo.draws})", "", shown])
    emit(
        [Column("statistic"), Column("value", justify="right"), Column("p-value", justify="right")],
        rows,
        title=f"Tests of CAAR [{first:+d},{last:+d}] = {_pct(aggregate.caar)}  (* robust to the shared date)",
    )
    for name, (first_day, last_day) in result.provisional.items():
        text_line(
            f"[yellow]note[/yellow] calendar {name} is provisional from {first_day} to {last_day} (the holidays "
            "package's exchange calendar, corrected by the index's bars)"
        )
    if tests.mean_residual_correlation is not None:
        text_line(
            f"mean residual correlation r̄ = {tests.mean_residual_correlation:.3f}, "
            f"Kolari–Pynnönen factor {_num(tests.kp_factor, 3)}"
        )
