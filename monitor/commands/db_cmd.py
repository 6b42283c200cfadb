"""``monitor db``: apply and inspect schema migrations."""

from __future__ import annotations

import typer

from monitor.commands._common import app_context, console

app = typer.Typer(help="Create, upgrade and inspect the database schema.", no_args_is_help=True, rich_markup_mode=None)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations (SQLite file in the data dir, or MONITOR_DATABASE_URL). Safe to run twice."""
    from monitor.db import migrate

    engine = app_context(ctx).engine(migrate=False)
    before, after = migrate.upgrade(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"database {url} is already at revision {after}; nothing to do")
    else:
        console.print(f"database {url} upgraded from {before or 'empty'} to {after}")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show the database in use, its schema revision and whether migrations are pending."""
    from monitor.db import migrate

    engine = app_context(ctx).engine(migrate=False)
    state = migrate.status(engine)
    console.print(f"database:  {state.url} ({state.dialect})")
    console.print(f"revision:  {state.current or 'none (empty database)'}")
    console.print(f"code head: {state.head}")
    if state.up_to_date:
        console.print("status:    up to date")
    else:
        console.print("status:    migrations pending; run `monitor db upgrade`")
        raise typer.Exit(1)
