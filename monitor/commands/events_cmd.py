"""``monitor events``: what the monitor knows, one line per event, and one event in full."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from monitor.commands._common import app_context, print_json
from monitor.commands._table import Column, emit, text_line
from monitor.errors import InputError

if TYPE_CHECKING:
    from monitor.report.events import EventDetail, EventSummary

app = typer.Typer(
    help="Stored events: the rules seen, their entities, matches, studies and alerts.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_DATE = ["%Y-%m-%d"]
STATUSES = ("complete", "partial", "pending", "halted", "other")


def _when(moment: datetime) -> str:
    from monitor.clock import NEW_YORK

    return f"{moment.astimezone(NEW_YORK):%Y-%m-%d %H:%M} NY"


def _studies(line: EventSummary) -> str:
    counts = [f"{line.study_count(s)} {s}" for s in ("complete", "partial", "pending")]
    other = line.study_count("other")
    return ", ".join(counts + ([f"{other} other"] if other else []))


def _alert(line: EventSummary) -> str:
    last = line.last_alert
    if last is None:
        return "—"
    subject = f" {last.symbol}" if last.symbol else ""
    return f"{last.stage}{subject} {last.status} ({_when(last.due_at)})"


@app.command("list")
def list_(
    ctx: typer.Context,
    since: datetime | None = typer.Option(
        None, "--since", formats=_DATE, help="Only events announced on or after this date (UTC)."
    ),
    status: str | None = typer.Option(
        None,
        "--status",
        help="Only events with at least one study in this status: complete, partial, pending, halted or other.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of events."),
) -> None:
    """Every stored event, newest first: its rule, when it was announced and what dated it, the entities the rule
    names, the securities matched, its studies by status and its last alert."""
    from monitor.report.events import list_events

    if status is not None and status not in STATUSES:
        raise InputError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    with app_context(ctx).sessions()() as session:
        lines = list_events(session, since=since.date() if since else None, status=status)
    if as_json:
        print_json([line.to_dict() for line in lines])
        return
    if not lines:
        text_line("no events stored yet: run `monitor backfill` or `monitor poll`, or let `monitor run` work")
        return
    columns = [
        Column("#", identifier=True, justify="right"),
        Column("rule", identifier=True),
        Column("announced", identifier=True),
        Column("dated by", drop=3),
        Column("entities", justify="right", drop=4),
        Column("matched", justify="right"),
        Column("studies"),
        Column("last alert", drop=2),
        Column("title", drop=1),
    ]
    rows = [
        [
            str(line.event_id),
            line.document_number,
            _when(line.announced_at),
            line.announced_source.replace("_", " "),
            str(line.entities),
            str(line.matched) + (f" (+{line.review}?)" if line.review else ""),
            _studies(line),
            _alert(line),
            line.title,
        ]
        for line in lines
    ]
    emit(columns, rows, title=f"{len(lines)} event(s)")


@app.command("show")
def show(
    ctx: typer.Context,
    event_id: int = typer.Argument(..., help="The event's number (the # column of `monitor events list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the event as JSON."),
) -> None:
    """One event in full: the rule, its entities with their actions, every match with its reason, each study's
    status and headline numbers, the event's headline tests and the alert thread."""
    from monitor.report.events import event_ids, show_event

    with app_context(ctx).sessions()() as session:
        detail = show_event(session, event_id)
        known = event_ids(session) if detail is None else []
    if detail is None:
        raise InputError(no_such_event(event_id, known))
    if as_json:
        print_json(detail.to_dict())
        return
    _print_detail(detail)


def no_such_event(event_id: int, known: list[int]) -> str:
    """The message for a number no event has, naming the numbers that exist."""
    if not known:
        return f"no event {event_id}: no events are stored yet (run `monitor backfill` first)"
    shown = ", ".join(map(str, known[:20])) + (" …" if len(known) > 20 else "")
    return f"no event {event_id}: the stored events are {shown} (see `monitor events list`)"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.2f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _p(value: float | None) -> str:
    return "—" if value is None else (f"{value:.3f}" if value >= 0.001 else f"{value:.1e}")


def _print_detail(detail: EventDetail) -> None:
    line = detail.summary
    text_line(f"Event {line.event_id}: {line.document_number} {line.title}")
    source = line.announced_source.replace("_", " ")
    text_line(f"announced {_when(line.announced_at)} ({line.announced_at.isoformat()}), dated by {source}")
    if detail.publication_date:
        text_line(f"published {detail.publication_date}")
    if detail.html_url:
        text_line(f"rule: {detail.html_url}", wrap=False)
    parse = f"parse: {line.parse_status}" + (f" ({detail.parse_error})" if detail.parse_error else "")
    text_line(parse + (" · backfilled" if detail.is_backfill else ""))
    emit(
        [Column("action", identifier=True), Column("entity"), Column("country", identifier=True), Column("aliases")],
        [[e.action, e.name, e.country or "", "; ".join(e.aliases)] for e in detail.entities],
        title=f"Entities ({len(detail.entities)})",
    )
    emit(
        [
            Column("symbol", identifier=True),
            Column("relation", identifier=True),
            Column("score", identifier=True, justify="right"),
            Column("confirmed", drop=1),
            Column("entity"),
            Column("reason"),
        ],
        [
            [m.symbol, m.relation, f"{m.score:.2f}", "yes" if m.confirmed else "review", m.entity, m.reason]
            for m in detail.matches
        ],
        title=f"Matches ({len(detail.matches)})",
    )
    windows = sorted({s.window for s in detail.studies})
    label = f"[{windows[0][0]:+d},{windows[0][1]:+d}]" if len(windows) == 1 else ""
    rows = []
    for s in detail.studies:
        first, last = s.window
        car = _pct(s.car) + ("" if label else f" [{first:+d},{last:+d}]")
        status = s.status.replace("_", " ")
        rows.append(
            [s.symbol, status, str(s.day0 or "—"), _pct(s.ar_day0), car, _num(s.car_t), _p(s.car_p), _pct(s.bhar),
             s.reason or ""]
        )  # fmt: skip
    emit(
        [
            Column("symbol", identifier=True),
            Column("status"),
            Column("day 0", identifier=True),
            Column("AR day 0", justify="right"),
            Column(f"CAR {label}".strip(), justify="right"),
            Column("t", justify="right", drop=3),
            Column("p", justify="right", drop=1),
            Column("BHAR", justify="right", drop=2),
            Column("note"),
        ],
        rows,
        title="Studies",
    )
    for g in detail.groups:
        tests = ", ".join(f"{name} {_num(g.tests[name])} (p {_p(g.p_values[name])})" for name in g.tests)
        text_line(f"group {g.group}: N = {g.n}, CAAR {_pct(g.caar)}; {tests}")
    thread = []
    for a in detail.alerts:
        deliveries = "; ".join(
            f"{d.sink} {d.status}" + (f" {d.sent_at:%Y-%m-%d %H:%M}Z" if d.sent_at else "")
            + (f" ({d.last_error})" if d.last_error and d.status != "sent" else "")
            for d in a.deliveries
        ) or "not routed"  # fmt: skip
        thread.append([str(a.alert_id), a.stage, a.symbol or a.group or "", _when(a.due_at), deliveries])
    emit(
        [
            Column("#", identifier=True, justify="right"),
            Column("stage", identifier=True),
            Column("subject", identifier=True),
            Column("due", identifier=True),
            Column("deliveries"),
        ],
        thread,
        title=f"Alert thread ({len(detail.alerts)})",
    )
