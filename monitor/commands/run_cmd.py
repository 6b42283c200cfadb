"""``monitor run [--once]``: the daemon (``jobs.daemon``), or every job once for cron."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor.commands._common import app_context, err_console, print_json

if TYPE_CHECKING:
    from jobs.checks import StartupCheck
    from jobs.daemon import Daemon
    from monitor.clock import Clock

_STYLE = {"ok": "[green]ok  [/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def run(
    ctx: typer.Context,
    once: bool = typer.Option(
        False,
        "--once",
        help="Run every job once (poll pi, fr, csl; refresh prices; update studies; deliver alerts) and exit: "
        "0 all went well, 4 a feed, price source or sink failed (try again later), 3 the database failed, "
        "1 another failure, 143 stopped by SIGTERM.",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="With --once: print {exit_code, interrupted, checks: [{name, status, detail}], jobs: [{job, outcome, "
        "detail, seconds, summary}]} as JSON (the check lines, logs and console alerts go to stderr).",
    ),
    replay_start: str | None = typer.Option(
        None, "--replay-start", hidden=True, help="Testing/replay: run on simulated time from this ISO 8601 instant."
    ),
    replay_speed: float = typer.Option(
        1.0, "--replay-speed", hidden=True, min=0.001, help="Testing/replay: simulated seconds per real second."
    ),
    replay_anchor: float | None = typer.Option(
        None,
        "--replay-anchor",
        hidden=True,
        help="Testing/replay: Unix time at which simulated time starts to run (processes sharing it share one "
        "timeline); default now.",
    ),
    replay_anchor_file: Path | None = typer.Option(
        None,
        "--replay-anchor-file",
        hidden=True,
        help="Testing/replay: simulated time stands at --replay-start until this file exists, then runs from the "
        "Unix time written in it (end-to-end tests release time once the card is out).",
    ),
) -> None:
    """Run the monitor: poll the feeds, alert, follow the market reaction; /healthz, /readyz and /metrics on
    http.address. Stops cleanly on SIGTERM or SIGINT."""
    from monitor.commands.compose import daemon as build_daemon
    from monitor.errors import InputError

    if as_json and not once:
        raise InputError("--json needs --once: the daemon itself reports through its logs and /healthz")
    context = app_context(ctx)
    settings = context.settings
    clock = _clock(replay_start, replay_speed, replay_anchor, replay_anchor_file)
    json_logs = settings.log.format == "json"
    daemon = build_daemon(
        context,
        clock=clock,
        report=None if json_logs else _print_check,
        alert_console=err_console if as_json else None,
    )
    try:
        daemon.start()
        code = daemon.once() if once else daemon.serve()
    finally:
        daemon.close()
    if as_json:
        print_json(once_summary(daemon, code))
    raise typer.Exit(code)


def once_summary(daemon: Daemon, code: int) -> dict[str, Any]:
    """``run --once --json``: the start-up checks, then every job in the order it ran with what it did."""
    return {
        "exit_code": code,
        "interrupted": code > 128,  # 128 + the signal's number
        "checks": [{"name": c.name, "status": c.level, "detail": c.detail} for c in daemon.checks],
        "jobs": [
            {
                "job": name,
                "outcome": record.outcome,
                "detail": record.detail or None,
                "seconds": record.seconds,
                "summary": dict(record.summary),
            }
            for name, record in daemon.ran.items()
        ],
    }


def _clock(start: str | None, speed: float, anchor: float | None, anchor_file: Path | None) -> Clock:
    from monitor.clock import ReplayClock, SystemClock, parse_instant

    if start is None:
        return SystemClock()
    if anchor is not None and anchor_file is not None:
        raise typer.BadParameter("give --replay-anchor or --replay-anchor-file, not both", param_hint="--replay-anchor")
    return ReplayClock(parse_instant(start, "--replay-start"), speed=speed, anchor=anchor, anchor_file=anchor_file)


def _print_check(check: StartupCheck) -> None:
    from rich.markup import escape

    err_console.print(f"{_STYLE[check.level]} {escape(check.name)}: {escape(check.detail)}")
