"""``monitor db``: apply and inspect schema migrations."""

from __future__ import annotations

import typer

from monitor.commands._common import app_context, console, print_json

app = typer.Typer(help="Create, upgrade and inspect the database schema.", no_args_is_help=True, rich_markup_mode=None)


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="Print {database, dialect, before, after, upgraded} as JSON (before is null if empty)."
    ),
) -> None:
    """Apply pending migrations (SQLite file in the data dir, or MONITOR_DATABASE_URL). Safe to run twice."""
    from monitor.db import migrate
    from monitor.db.engine import redacted

    engine = app_context(ctx).engine(migrate=False)
    before, after = migrate.upgrade(engine)
    url = redacted(engine)
    if as_json:
        print_json(
            {
                "database": url,
                "dialect": engine.dialect.name,
                "before": before,
                "after": after,
                "upgraded": before != after,
            }
        )
    elif before == after:
        console.print(f"database {url} is already at revision {after}; nothing to do")
    else:
        console.print(f"database {url} upgraded from {before or 'empty'} to {after}")


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print {database, dialect, revision, head, up_to_date} as JSON (revision is null if empty); "
        "the exit code is 1 when migrations are pending, as without --json.",
    ),
) -> None:
    """Show the database in use, its schema revision and whether migrations are pending (exit 1 if they are)."""
    from monitor.db import migrate

    engine = app_context(ctx).engine(migrate=False)
    state = migrate.status(engine)
    if as_json:
        print_json(
            {
                "database": state.url,
                "dialect": state.dialect,
                "revision": state.current,
                "head": state.head,
                "up_to_date": state.up_to_date,
            }
        )
    else:
        console.print(f"database:  {state.url} ({state.dialect})")
        console.print(f"revision:  {state.current or 'none (empty database)'}")
        console.print(f"code head: {state.head}")
        if state.up_to_date:
            console.print("status:    up to date")
        else:
            console.print("status:    migrations pending; run `monitor db upgrade`")
    if not state.up_to_date:
        raise typer.Exit(1)
