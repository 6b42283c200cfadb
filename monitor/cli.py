"""The ``monitor`` command: the composition root that turns settings into clients, storage and jobs.

Each command group lives in ``monitor/commands/``; this module registers them, owns the global options, and maps
our exceptions to one-line messages and exit codes (no tracebacks for problems an operator can fix).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

import monitor.commands.alerts_cmd as alerts_cmd
import monitor.commands.backfill_cmd as backfill_cmd
import monitor.commands.demo_cmd as demo_cmd
import monitor.commands.events_cmd as events_cmd
import monitor.commands.feeds_cmd as feeds_cmd
import monitor.commands.matching_cmd as matching_cmd
import monitor.commands.prices_cmd as prices_cmd
import monitor.commands.report_cmd as report_cmd
import monitor.commands.run_cmd as run_cmd
import monitor.commands.study_cmd as study_cmd
from monitor.commands import config_cmd, db_cmd
from monitor.errors import MonitorError

app = typer.Typer(
    name="monitor",
    help=(
        "Entity List market-reaction monitor: catches Commerce Department Entity List rules as they are filed, "
        "maps them to the listed securities they move, alerts on Slack and measures the reaction."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish and PowerShell
    # Plain help and usage errors: typer's rich formatter alone (rich.markdown and friends) costs more than the
    # rest of a cold `monitor --help`; every command group sets the same.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
feeds_cmd.register(app)  # monitor poll, monitor extract
app.add_typer(alerts_cmd.app, name="alerts")
app.add_typer(matching_cmd.universe_app, name="universe")
app.command("match")(matching_cmd.match)
app.add_typer(prices_cmd.app, name="prices")
app.command("study")(study_cmd.study)
app.command("backfill")(backfill_cmd.backfill)
app.command("report")(report_cmd.report)
app.add_typer(events_cmd.app, name="events")
app.command("demo")(demo_cmd.demo)
app.command("run")(run_cmd.run)


def _version(value: bool) -> None:
    if value:
        from monitor import __version__

        typer.echo(f"monitor (entity-list-monitor) {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        envvar="MONITOR_CONFIG",
        help="TOML settings file (also MONITOR_CONFIG).",
        dir_okay=False,
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory (MONITOR_DATA_DIR)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://... (MONITOR_DATABASE_URL)."
    ),
    log_level: str | None = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING or ERROR."),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line instead of key=value."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    log: dict[str, str] = {}
    if log_level is not None:
        log["level"] = log_level.upper()
    if log_json:
        log["format"] = "json"
    if log:
        overrides["log"] = log
    from monitor.bootstrap import AppContext
    from monitor.logs import configure_logging

    configure_logging()  # until settings are loaded, so early problems are logged in the same shape
    context = AppContext(config_path=config, cli_overrides=overrides)
    ctx.obj = context
    ctx.call_on_close(context.close)


# The root's options, with whether each takes a value: accepted after the subcommand too (`monitor config show
# --config F`) by moving them in front of it, since click only reads a group's options before its subcommand.
GLOBAL_OPTIONS: dict[str, bool] = {
    "--config": True,
    "-c": True,
    "--data-dir": True,
    "--database-url": True,
    "--log-level": True,
    "--log-json": False,
}


def hoist_global_options(argv: list[str]) -> list[str]:
    """``argv`` with every global option found after the subcommand moved before it, values and all (``--opt V``
    or ``--opt=V``); nothing after ``--`` is touched, and no subcommand defines an option of the same name
    (tests/test_cli.py checks that)."""
    front: list[str] = []
    index = 0
    while index < len(argv):  # the options before the subcommand stay where they are
        arg = argv[index]
        if not arg.startswith("-") or arg == "--":
            break
        takes_value = GLOBAL_OPTIONS.get(arg, False)
        front.append(arg)
        if takes_value and index + 1 < len(argv):
            front.append(argv[index + 1])
            index += 1
        index += 1
    moved: list[str] = []
    rest: list[str] = []
    tail = argv[index:]
    position = 0
    while position < len(tail):
        arg = tail[position]
        if arg == "--":
            rest.extend(tail[position:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            moved.append(arg)
            if GLOBAL_OPTIONS[name] and "=" not in arg and position + 1 < len(tail):
                moved.append(tail[position + 1])
                position += 1
        else:
            rest.append(arg)
        position += 1
    return [*front, *moved, *rest]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m monitor``; returns the exit code.

    Nothing heavy is imported before a command runs (the root callback builds the context and logging), so
    ``monitor --help`` costs little more than typer itself."""
    try:
        args = hoist_global_options(sys.argv[1:] if argv is None else list(argv))
        app(args=args, prog_name="monitor")  # standalone mode: usage errors print and raise SystemExit(2)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MonitorError as exc:
        sys.stderr.write(f"monitor: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("monitor: interrupted\n")
        return 130
    except OSError as exc:  # a path the system refused where no command expected it: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"monitor: error: {where}{exc.strerror or exc}\n")
        return 1
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        from monitor.db.engine import short_reason
        from monitor.errors import StorageError

        sys.stderr.write(f"monitor: error: database: {short_reason(exc)}\n")  # a read-only file mid-command, …
        return StorageError.exit_code
    return 0


def _is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's errors, recognised without importing it (``--help`` stays fast)."""
    sqlalchemy = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy is not None and isinstance(exc, sqlalchemy.SQLAlchemyError)


if __name__ == "__main__":
    raise SystemExit(main())
