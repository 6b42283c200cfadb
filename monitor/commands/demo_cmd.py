"""``monitor demo``: October 2019 replayed offline through the real pipeline, alerts printed as they went out."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer

from monitor.clock import NEW_YORK
from monitor.commands._common import app_context, console, err_console, print_json
from monitor.commands._table import text_line
from monitor.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.config import Settings
    from monitor.demo.story import DemoResult


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("monitor-demo-report"), "--out", file_okay=False, help="Where the HTML/CSV report and charts go."
    ),
    keep_database: bool = typer.Option(
        False,
        "--keep-database",
        help="Keep the demo's own SQLite database (its path is printed) instead of deleting it.",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print {rule, start, end, steps, alerts, story: [...], report, log, database} as JSON; the replay's "
        "narration and the alerts printed to the console go to stderr.",
    ),
) -> None:
    """Replay October 2019 offline: the Xinjiang Entity List rule from filing to market reaction.

    Runs the monitor's own pipeline with a simulated clock over 2019-10-01..2019-10-25 on data shipped with the
    package (no network): detection at the public-inspection filing, the published rule, day-0 and later
    follow-ups after each exchange's close, then an HTML report. Alerts print here, or go to Slack when a bot token
    is configured. Uses a database of its own, never yours.
    """
    base = app_context(ctx).settings
    out = out.expanduser().resolve()
    try:  # an unusable --out is the user's to fix: one line, before anything runs
        out.mkdir(parents=True, exist_ok=True)
        log = (out / "demo.log").open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    workdir = Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    database = workdir / "monitor.db"
    try:
        with log, logs_to(log, base):  # the terminal tells the story (stderr's, when stdout carries the JSON)
            result = replay(base, out, workdir, console=err_console if as_json else console)
        if as_json:
            print_json(as_dict(result, log=out / "demo.log", database=database if keep_database else None))
            return
        show(result)
        text_line(f"log: {out / 'demo.log'}", wrap=False)
        if keep_database:
            text_line(f"database: {database} (kept; MONITOR_DATA_DIR={workdir} to explore it)", wrap=False)
    finally:
        if not keep_database:
            shutil.rmtree(workdir, ignore_errors=True)


def replay(base: Settings, out: Path, workdir: Path, *, console: Console) -> DemoResult:
    """Run the replay on a fresh database in ``workdir``, alerts through the configured sinks, narrated on
    ``console``; the story's reasons name "the demo data", not the temporary directory it was read from."""
    from alerts.console import ConsoleSink
    from monitor.commands.compose import build_sinks, delivery_worker
    from monitor.commands.compose import demo as build_demo
    from monitor.db.engine import make_engine, session_factory
    from monitor.db.migrate import upgrade
    from monitor.demo.story import demo_data, demo_settings

    with demo_data() as data:
        settings = demo_settings(base, data_dir=workdir, prices=data / "prices")
        engine = make_engine(settings.effective_database_url)
        try:
            upgrade(engine)
            sessions = session_factory(engine)
            demo = build_demo(sessions, settings, data=data, console=console)
            sinks = build_sinks(settings)
            if "console" in sinks:
                sinks["console"] = ConsoleSink(console, chart_dir=out / "charts")
            worker = delivery_worker(sessions, settings, demo.clock, sinks=sinks)
            where = f"Slack channel {settings.slack.channel}" if settings.slack.enabled else "this terminal"
            console.print(
                "[bold]Entity List monitor, offline demo[/bold]: 2019-10-01 to 2019-10-25 (New York time) replayed "
                "through the monitor's own pipeline with a simulated clock, from data shipped with the package "
                "(the Federal Register responses of FR Doc 2019-22210, reconstructed; daily prices 2018-2020). "
                f"Alerts go to {where} as they would have then."
            )
            with console.status("replaying") as status:
                result = demo.run(
                    lambda: worker.run_once().sent,
                    out_dir=out,
                    on_step=lambda step: status.update(
                        f"replaying {step.at.astimezone(NEW_YORK):%a %Y-%m-%d %H:%M} ET"
                    ),
                )
        finally:
            engine.dispose()
        prices = str(data / "prices")
        result.story = [
            dataclasses.replace(line, reason=line.reason.replace(prices, "the demo data") if line.reason else None)
            for line in result.story
        ]
    return result


@contextmanager
def logs_to(stream: TextIO, settings: Settings) -> Iterator[None]:
    """Our log lines go to ``stream`` for the duration, then to wherever they went before."""
    from monitor.logs import configure_logging

    root = logging.getLogger()
    before = [h for h in root.handlers if getattr(h, "_monitor_handler", False)]
    configure_logging(settings.log.level, settings.log.format, stream=stream)
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_monitor_handler", False)]:
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)


def as_dict(result: DemoResult, *, log: Path, database: Path | None) -> dict[str, Any]:
    """``monitor demo --json``: what was replayed, the story line by line (fractions), and where the files are."""
    from monitor.demo.story import END, RULE, START

    report = result.report
    return {
        "rule": RULE,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "steps": result.steps,
        "alerts": result.alerts,
        "story": [line.to_dict() for line in result.story],
        "report": None
        if report is None
        else {"html": str(report.html), "csv": str(report.csv), "events": report.events, "rows": report.rows},
        "log": str(log),
        "database": str(database) if database is not None else None,  # kept with --keep-database
    }


def show(result: DemoResult) -> None:
    """The story as a table that fits the terminal (TSV when piped), then what could not be studied and why."""
    from monitor.commands._table import Column, emit
    from monitor.demo.story import halted_span
    from monitor.models import StudyStatus

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:+.1f}%"

    windows = sorted({line.window for line in result.story})
    label = f"[{windows[0][0]:+d},{windows[0][1]:+d}]" if len(windows) == 1 else ""  # as `events show` labels it
    rows: list[list[str]] = []
    notes: list[str] = []
    for line in result.story:
        if line.status not in (StudyStatus.COMPLETE, StudyStatus.PARTIAL, StudyStatus.HALTED):
            notes.append(f"{line.symbol} {line.name}: not studied ({line.reason or line.status})")
            continue
        traded = f"{line.reaction_date:%m-%d}" if line.reaction_date else "—"  # the year is day 0's
        if line.halted and line.reaction_date:
            traded = f"halted {halted_span(line.halted)}; first trade {line.reaction_date:%m-%d}"
        whole = f"{pct(line.car_window)} ({line.car_t:+.2f})" if line.car_t is not None else pct(line.car_window)
        if not label:
            whole += f" [{line.window[0]:+d},{line.window[1]:+d}]"
        rows.append(
            [
                line.symbol,
                line.name,
                line.relation,
                line.day0.isoformat() if line.day0 else "—",
                traded,
                pct(line.reaction_ar),
                pct(line.car_first_days),
                whole,
            ]
        )
    text_line("[bold]Story[/bold]")
    emit(
        [
            Column("symbol", identifier=True),
            Column("security"),
            Column("relation", drop=2),
            Column("day 0", identifier=True),
            Column("traded"),
            # numbers are shown whole, like identifiers: rich squeezes free-text columns below their minimum
            # when several compete for a narrow terminal, and a number cut short reads as another number
            Column("first-trade AR", identifier=True, justify="right"),
            Column("CAR [0,+1]", identifier=True, justify="right", drop=1),
            Column(f"CAR {label} (t)" if label else "CAR (t) [window]", identifier=True, justify="right"),
        ],
        rows,
        title="The reaction, from the stored event studies (abnormal returns against the local index)",
    )
    for note in notes:
        text_line(f"[dim]{note}[/dim]")
    text_line(f"{result.alerts} alerts delivered over {result.steps} replayed moments.")
    if result.report is not None:
        text_line(f"report: {result.report.html}", wrap=False)
        text_line(f"csv:    {result.report.csv}", wrap=False)
