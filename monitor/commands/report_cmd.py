"""``monitor report``: the stored event studies as one self-contained HTML file and a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from monitor.commands._common import app_context, console, err_console, print_json
from monitor.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


def report(
    ctx: typer.Context,
    event_id: int | None = typer.Argument(None, help="The event to report (see `monitor backfill` or the alerts)."),
    every: bool = typer.Option(False, "--all", help="Report every studied event, with the cross-event summary."),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Directory for report.html and report.csv."),
    as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
) -> None:
    """Write an HTML report and a CSV of stored event studies, for one event or all of them.

    report.html: tables, AR/CAR charts per security, CAAR per group, the cross-event summary by relation and the
    methods and parameters used, with its charts embedded. report.csv: every event and security with day 0 and the
    standard windows' CARs, t and p.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from monitor.clock import SystemClock
    from monitor.report import chart_cache_dir, write_report

    if (event_id is None) == (not every):
        raise InputError("give an EVENT_ID or --all (not both)")
    context = app_context(ctx)
    sessions = context.sessions()
    if event_id is not None:
        _check_event(sessions, event_id)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("drawing charts", total=None)
        written = write_report(
            sessions,
            out,
            None if every else [event_id] if event_id is not None else None,
            now=SystemClock().now(),
            on_event=lambda _: progress.advance(task),
            chart_cache=chart_cache_dir(context.settings.data_dir),
        )
    if as_json:
        print_json({"html": str(written.html), "csv": str(written.csv), "events": written.events, "rows": written.rows})
        return
    console.print(f"{written.events} event(s), {written.rows} security rows")
    console.print(f"report: {written.html}")
    console.print(f"csv:    {written.csv}")


def _check_event(sessions: sessionmaker[Session], event_id: int) -> None:
    """An event that does not exist, or has nothing studied, is named as such (not "no stored study")."""
    from monitor.commands.events_cmd import no_such_event
    from monitor.report.events import event_ids, show_event

    with sessions() as session:
        detail = show_event(session, event_id)
        known = event_ids(session) if detail is None else []
    if detail is None:
        raise InputError(no_such_event(event_id, known))
    if detail.studies:
        return
    line = detail.summary
    if detail.parse_error or line.parse_status in ("failed", "pending"):
        why = f"its rule could not be parsed ({detail.parse_error or line.parse_status})"
    elif not detail.matches:
        why = "no listed security matched its entities"
    else:
        why = "its studies are not computed yet (the daemon or `monitor backfill` computes them)"
    raise InputError(f"event {event_id} ({line.document_number}) has nothing to report: {why}")
