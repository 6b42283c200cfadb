"""``monitor alerts``: test the sinks, inspect the outbox, retry a dead delivery, run one delivery pass."""

from __future__ import annotations

from enum import StrEnum

import typer

from monitor.commands._common import app_context, console, err_console, print_json

app = typer.Typer(help="Alert sinks and the alert outbox.", no_args_is_help=True, rich_markup_mode=None)


@app.command("test")
def send_test(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {sink, ok, answer}."),
) -> None:
    """Send a test message to each configured sink now and report what each answered (exit 1 if any failed)."""

    from monitor import __version__
    from monitor.clock import SystemClock
    from monitor.commands.compose import build_sink
    from monitor.errors import MonitorError
    from monitor.outbox import configured_sinks

    settings = app_context(ctx).settings
    text = (
        f"Test message from entity-list-monitor {__version__} at {SystemClock().now():%Y-%m-%d %H:%M:%S} UTC: "
        "alerts to this destination work."
    )
    results: list[dict[str, object]] = []
    for name in configured_sinks(settings):
        try:
            answer = build_sink(name, settings, console=console).send_test(text)
            results.append({"sink": name, "ok": True, "answer": answer})
        except MonitorError as exc:
            results.append({"sink": name, "ok": False, "answer": str(exc)})
    if as_json:
        print_json(results)
    else:
        from monitor.commands._table import Column, emit

        emit(
            [Column("sink", identifier=True), Column("result", identifier=True), Column("answer")],
            [[str(r["sink"]), "ok" if r["ok"] else "[red]failed[/red]", str(r["answer"])] for r in results],
            title="Alert sinks",
        )
    if not all(row["ok"] for row in results):
        raise typer.Exit(1)


class Status(StrEnum):
    """``monitor.models.AlertStatus``, spelled out so ``--help`` need not import pydantic (a test keeps them equal)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Status | None = typer.Option(None, "--status", help="Only deliveries in this state."),
    limit: int = typer.Option(50, "--limit", min=1, help="Most rows shown, newest alerts first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Alert deliveries, one row per alert and sink: status, attempts, next attempt, last error."""

    from alerts.admin import list_deliveries
    from monitor.models import AlertStatus

    with app_context(ctx).sessions()() as session:
        rows = list_deliveries(session, status=AlertStatus(status.value) if status else None, limit=limit)
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    from monitor.commands._table import Column, emit, text_line

    if not rows:
        text_line("no alert deliveries" + (f" with status {status.value}" if status else ""))
        return
    cells = []
    for row in rows:
        moment = row.sent_at if row.sent_at is not None else row.next_attempt_at
        cells.append(
            [str(row.id), row.dedup_key, row.sink, row.status, str(row.attempts), f"{moment:%Y-%m-%d %H:%M:%S}",
             row.last_error or ""]
        )  # fmt: skip
    emit(
        [
            Column("id", identifier=True, justify="right"),
            Column("alert", identifier=True),
            Column("sink", identifier=True),
            Column("status", identifier=True),
            Column("tries", justify="right", drop=1),
            Column("next try / sent (UTC)", identifier=True, drop=2),
            Column("last error"),
        ],
        cells,
        title=f"Alert deliveries ({status.value if status else 'all'})",
    )


@app.command("retry")
def retry(
    ctx: typer.Context,
    delivery_ids: list[int] = typer.Argument(..., help="Delivery ID(s) from `monitor alerts list`."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the deliveries queued again as a JSON list, in the shape of `alerts list --json`."
    ),
) -> None:
    """Queue dead (or stuck) deliveries again, due now. A delivery a sink already accepted is never resent."""
    from alerts.admin import retry_delivery
    from monitor.clock import SystemClock

    context = app_context(ctx)
    timeout = context.settings.alerts.claim_timeout_seconds
    with context.sessions().begin() as session:  # all or none: one refused ID leaves the others as they were
        views = [
            retry_delivery(session, delivery_id, now=SystemClock().now(), claim_timeout_seconds=timeout)
            for delivery_id in delivery_ids
        ]
    if as_json:
        print_json([view.as_json() for view in views])
        return
    for view in views:
        console.print(f"delivery {view.id} ({view.dedup_key} to {view.sink}) is queued again")


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    limit: int | None = typer.Option(None, "--limit", min=1, help="Most deliveries attempted (alerts.batch_size)."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the pass's counts as JSON {sent, retrying, dead, waiting, recovered, skipped, lost}; "
        "alerts printed by the console sink go to stderr then.",
    ),
) -> None:
    """Run one delivery pass now: send what is due, as the daemon's delivery job does."""
    from monitor.clock import SystemClock
    from monitor.commands.compose import build_sinks, delivery_worker

    context = app_context(ctx)
    sinks = build_sinks(context.settings, console=err_console if as_json else console)
    worker = delivery_worker(context.sessions(), context.settings, SystemClock(), sinks=sinks)
    report = worker.run_once(limit=limit)
    if as_json:
        print_json(
            {
                "sent": report.sent,
                "retrying": report.retrying,
                "dead": report.dead,
                "waiting": report.waiting,
                "recovered": report.recovered,
                "skipped": report.skipped,
                "lost": report.lost,
            }
        )
        return
    console.print(
        f"sent {report.sent}, retrying {report.retrying}, dead {report.dead}, "
        f"waiting for their thread {report.waiting}, skipped {report.skipped}"
    )
