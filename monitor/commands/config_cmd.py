"""``monitor config``: what the monitor will run with, and where each value came from."""

from __future__ import annotations

import typer

from monitor.commands._common import app_context, print_json
from monitor.commands._table import Column, emit

app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True, rich_markup_mode=None)


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {key, value, source}."),
) -> None:
    """Print every setting with secrets masked, and whether it came from a default, the file, env or a flag; then
    what the public-inspection schedule costs the Federal Register API (requests per hour and per day)."""
    from jobs.triggers import public_inspection_cost
    from monitor.config import explain

    context = app_context(ctx)
    rows = explain(context.settings, context.config_path, context.cli_overrides)
    poll = context.settings.poll
    rows.append(("(public-inspection polling)", public_inspection_cost(poll).describe(poll), "derived"))
    if as_json:
        print_json([{"key": key, "value": value, "source": source} for key, value, source in rows])
        return
    emit(
        [Column("setting", identifier=True), Column("value"), Column("source", drop=1)],
        [[key, value, source] for key, value, source in rows],
        title="Effective settings",
    )
