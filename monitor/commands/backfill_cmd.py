"""``monitor backfill``: past Entity List rules through the daemon's pipeline, the clock set to each one's past."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO, cast

import typer

from monitor.clock import NEW_YORK
from monitor.commands._common import app_context, console, err_console, print_json
from monitor.errors import InputError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from monitor.backfill import BackfillSummary
    from monitor.config import Settings

_DATE = ["%Y-%m-%d"]
STAGE_LABELS = {
    "search": "searching the Federal Register",
    "filings": "public-inspection filing times",
    "rules": "dating and matching rules",
    "prices": "fetching prices",
    "studies": "event studies",
}


class RichProgress:
    """One rich progress bar per stage, on stderr so ``--json`` output stays clean."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.stage = ""

    def begin(self, stage: str, total: int | None) -> None:
        self.stage = STAGE_LABELS.get(stage, stage)
        self.task = self.progress.add_task(self.stage, total=total)

    def advance(self, detail: str = "") -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, description=f"{self.stage} [dim]{detail}[/dim]")

    def end(self, detail: str = "") -> None:
        if self.task is not None:
            task = self.progress.tasks[self.progress.task_ids.index(self.task)]
            total = task.total if task.total is not None else 1
            self.progress.update(self.task, total=total, completed=total, description=f"{self.stage}: {detail}")
        self.task = None


class GracefulStop:
    """The first Ctrl-C finishes the current rule and stops; a second one aborts at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: Any = None

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        err_console.print("[yellow]stopping after the current step (Ctrl-C again to abort); run again to resume[/]")


@contextmanager
def logs_above(progress: Progress, settings: Settings) -> Iterator[None]:
    """Log lines printed above the live progress bars instead of through them, for as long as they run."""
    from monitor.logs import configure_logging

    configure_logging(settings.log.level, settings.log.format, stream=cast(TextIO, progress.console.file))
    try:
        yield
    finally:
        configure_logging(settings.log.level, settings.log.format)


def _source(spec: str) -> str | None:
    if spec in ("fr", "live"):
        return None
    if spec.startswith("dir:") and len(spec) > 4:
        return spec
    raise InputError(f"--source {spec!r}: expected fr (the Federal Register API) or dir:PATH (saved responses)")


def backfill(
    ctx: typer.Context,
    since: datetime = typer.Option(..., "--since", formats=_DATE, help="First publication date to cover."),
    until: datetime | None = typer.Option(None, "--until", formats=_DATE, help="Last publication date (today)."),
    source: str = typer.Option(
        "fr", "--source", help="fr (the Federal Register at federal_register_url) or dir:PATH (saved responses)."
    ),
    prices: str | None = typer.Option(
        None, "--prices", help="yfinance or dir:PATH (default: prices.source, MONITOR_PRICES__SOURCE)."
    ),
    report: Path | None = typer.Option(None, "--report", file_okay=False, help="Also write the report there."),
    alerts: bool = typer.Option(
        False, "--alerts/--no-alerts", help="Send the alerts the daemon would have sent (default: record silently)."
    ),
    overrides: Path | None = typer.Option(
        None, "--overrides", dir_okay=False, help="CSV document_number,announced_at[,note] of earlier announcements."
    ),
    shipped_overrides: bool = typer.Option(
        True, "--default-overrides/--no-default-overrides", help="Apply the shipped list of known announcement times."
    ),
    filing_lookup: bool = typer.Option(
        True, "--filing-lookup/--no-filing-lookup", help="Ask public inspection for filing times records lack."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Replay past Entity List rules through the pipeline, each event studied with the clock at its past.

    Searches the Federal Register (or saved responses), extracts, matches, fetches the prices the store lacks and
    studies each event with no look-ahead. Resumable: Ctrl-C stops after the current step and a rerun continues;
    a second run over the same range changes nothing. Exit 1 if something a rerun could fix failed, 130 if
    interrupted.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.backfill import BackfillRequest, load_overrides
    from monitor.clock import SystemClock
    from monitor.commands.compose import backfill as build_backfill
    from monitor.commands.compose import make_source
    from monitor.feeds.wiring import build_clients, build_poller
    from monitor.prices.calendars import calendars_from_settings

    first, last = since.date(), until.date() if until else None
    if last is not None and last < first:
        raise InputError(f"--until {last} is before --since {first}")
    context = app_context(ctx)
    settings = context.settings
    known = load_overrides(overrides, shipped=shipped_overrides)
    price_source = make_source(
        prices or settings.prices.source, settings=settings, option="--prices" if prices else "prices.source"
    )
    sessions = context.sessions()
    clock = SystemClock()
    clients = build_clients(settings, source=_source(source), clock=clock)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console) as bars, GracefulStop() as stop, logs_above(bars, settings):
            runner = build_backfill(
                sessions,
                settings,
                calendars=calendars_from_settings(settings),
                poller=build_poller(settings, sessions, clock, clients),
                federal_register=clients.federal_register if filing_lookup else None,
                price_source=price_source,
                clock=clock,
                progress=RichProgress(bars),
                stop=stop.event,
            )
            summary = runner.run(BackfillRequest(first, last, alerts=alerts, overrides=known))
    finally:
        clients.close()
    if alerts and not summary.interrupted:
        _deliver(ctx)
    written = None
    if report is not None and summary.events:
        from monitor.report import chart_cache_dir, write_report

        skipped = not_studied(summary)
        if len(skipped) < len(summary.events):
            written = write_report(
                sessions,
                report,
                [e.event_id for e in summary.events],
                now=clock.now(),
                not_studied=skipped,
                chart_cache=chart_cache_dir(settings.data_dir),
            )
        else:
            err_console.print("[yellow]no report: none of the rules could be studied (see the failures below)[/]")
    if as_json:
        body = summary.to_dict()
        body["report"] = str(written.html) if written else None
        body["report_not_studied"] = [{"event": label, "reason": why} for label, why in not_studied(summary).values()]
        print_json(body)
    else:
        show(summary)
        if written is not None:
            console.print(f"report: {written.html} and {written.csv}")
            for label, why in written.not_studied:
                console.print(f"[yellow]not in the report[/]: {label}: {why}")
    if summary.interrupted:
        raise typer.Exit(130)
    if not summary.ok:
        raise typer.Exit(1)


def not_studied(summary: BackfillSummary) -> dict[int, tuple[str, str]]:
    """The events with no study to report, each with why: its rule's failure (a parse error) when there is one,
    else that no listed security matched it."""
    out: dict[int, tuple[str, str]] = {}
    for line in summary.events:
        if sum(line.studies.values()):
            continue
        reasons = [f.reason for f in summary.failures if f.item == line.document_number]
        why = "; ".join(reasons) if reasons else "no listed security matched its entities"
        out[line.event_id] = (f"event {line.event_id} ({line.document_number})", why)
    return out


def _deliver(ctx: typer.Context) -> None:
    """Send what the backfill enqueued, as the daemon's delivery job would (composition root: alerts/ lives here)."""
    from monitor.clock import SystemClock
    from monitor.commands.compose import delivery_worker

    context = app_context(ctx)
    worker = delivery_worker(context.sessions(), context.settings, SystemClock())
    while True:
        report = worker.run_once()
        if not report.sent:
            break
    err_console.print(f"alerts: {report.sent} sent in the last pass, {report.retrying} retrying, {report.dead} dead")


def show(summary: BackfillSummary) -> None:
    """The summary line, the events and the failures, as tables that fit the terminal (TSV when piped)."""
    from monitor.commands._table import Column, emit, text_line

    span = f"{summary.since} to {summary.until or 'today'}"
    state = "[yellow]interrupted[/]" if summary.interrupted else "[green]done[/]"
    text_line(
        f"[bold]Backfill {span}[/bold]: {state} in {summary.elapsed_seconds:.1f} s · {summary.rules} rules, "
        f"{summary.entities} entities, {summary.confirmed} matched securities ({summary.review} for review), "
        f"studies {', '.join(f'{k} {v}' for k, v in summary.studies.items()) or 'none'}"
    )
    if summary.events:
        rows = []
        for line in summary.events:
            studies = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in line.studies.items()) or "—"
            matched = f"{line.confirmed}" + (f" (+{line.review}?)" if line.review else "")
            rows.append(
                [
                    str(line.event_id),
                    line.document_number,
                    f"{line.announced_at.astimezone(NEW_YORK):%Y-%m-%d %H:%M}",
                    line.announced_source.replace("_", " "),
                    str(line.entities),
                    matched,
                    studies,
                ]
            )
        emit(
            [
                Column("event", identifier=True, justify="right"),
                Column("document", identifier=True),
                Column("announced (New York)", identifier=True),
                Column("dated by", drop=2),
                Column("entities", justify="right", drop=1),
                Column("matched", justify="right"),
                Column("studies"),
            ],
            rows,
            title="Events (`monitor events show N` for one in full)",
        )
    if summary.failures:
        retryable = any(f.retryable for f in summary.failures)
        emit(
            [Column("stage", identifier=True), Column("item", identifier=True), Column("reason"), Column("retry")],
            [[f.stage, f.item, f.reason, "yes" if f.retryable else ""] for f in summary.failures],
            title="Failures and gaps" + (" (retry yes: a rerun may fix it)" if retryable else " (data gaps)"),
        )
