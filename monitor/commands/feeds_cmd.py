"""``monitor poll`` and ``monitor extract``: one poll of the regulatory feeds, and a rule's listing actions."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor.commands._common import app_context, err_console, print_json
from monitor.commands._table import Column, emit, text_line
from monitor.errors import InputError, MonitorError

if TYPE_CHECKING:
    from monitor.feeds.poll import PollResult
    from monitor.models import ListingAction

_DOCUMENT_NUMBER = re.compile(r"^(?:[A-Z]\d-)?\d{4}-\d{3,6}$")
_SOURCES = ("fr", "pi", "csl")


def register(app: typer.Typer) -> None:
    app.command("poll")(poll)
    app.command("extract")(extract)


def poll(
    ctx: typer.Context,
    source: str | None = typer.Option(
        None, "--source", help="fr (documents), pi (public inspection) or csl; all when omitted."
    ),
    since: str | None = typer.Option(
        None, "--since", help="YYYY-MM-DD: fr scans everything published since; pi also reads each day's issue."
    ),
    from_dir: Path | None = typer.Option(
        None, "--from-dir", help="Replay saved responses from this directory instead of the network.", file_okay=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Poll the feeds once, store what is new and print it (Entity List actions first)."""
    from monitor.clock import SystemClock
    from monitor.feeds.wiring import build_clients, build_poller
    from monitor.models import FeedName

    if source is not None and source not in _SOURCES:
        raise InputError(f"--source: expected one of {', '.join(_SOURCES)}, got {source!r}")
    feeds = [FeedName(source)] if source else [FeedName(name) for name in _SOURCES]
    since_date = _parse_date(since)
    context = app_context(ctx)
    settings = context.settings
    sessions = context.sessions()
    clients = build_clients(settings, source=f"dir:{from_dir}" if from_dir else None, option="--from-dir")
    results: list[PollResult] = []
    failures: list[MonitorError] = []
    try:
        poller = build_poller(settings, sessions, SystemClock(), clients)
        for feed in feeds:
            with err_console.status(f"polling {feed.value}…"):
                try:
                    results.append(poller.poll(feed, since=since_date))
                except MonitorError as exc:
                    failures.append(exc)
                    err_console.print(f"[red]{feed.value}: {exc}[/red]")
    finally:
        clients.close()
    if as_json:
        print_json([_result_json(result) for result in results])
    else:
        for result in results:
            _print_result(result)
    if failures:
        raise typer.Exit(failures[0].exit_code)


def extract(
    ctx: typer.Context,
    target: str = typer.Argument(
        ..., help="A rule's XML, text (.txt) or PDF (.pdf) file, or a document number such as 2019-22210."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of listing actions."),
    from_dir: Path | None = typer.Option(
        None, "--from-dir", help="Fetch the document from saved responses instead of the network.", file_okay=False
    ),
) -> None:
    """Print the listing actions (add, revise, remove) a rule makes to the Entity List."""
    from monitor.feeds.entity_list import extract_from_xml
    from monitor.feeds.extraction import extract_text
    from monitor.feeds.pdf_text import pdf_to_text

    path = Path(target)
    if path.is_file():
        data = path.read_bytes()
        if path.suffix.lower() == ".txt":
            actions = extract_text(data.decode("utf-8", errors="replace"), document_number=path.stem).actions
        elif path.suffix.lower() == ".pdf":
            actions = extract_text(pdf_to_text(data, document_number=path.stem), document_number=path.stem).actions
        else:
            actions = extract_from_xml(data, document_number=path.stem, max_bytes=_max_bytes(ctx)).actions
    elif _DOCUMENT_NUMBER.match(target):
        actions = _extract_document(ctx, target, from_dir)
    else:
        raise InputError(f"{target}: neither a file nor a document number such as 2019-22210")
    if as_json:
        print_json([action_json(action) for action in actions])
        return
    _print_actions(target, actions)


def action_json(action: ListingAction) -> dict[str, Any]:
    return {
        "name": action.entity_name,
        "aliases": list(action.aliases),
        "country": action.country,
        "country_iso": action.country_iso,
        "addresses": list(action.addresses),
        "action": action.action.value,
        "license_requirement": action.license_requirement,
        "license_review_policy": action.license_review_policy,
        "federal_register_citation": action.federal_register_citation,
    }


def _extract_document(ctx: typer.Context, number: str, from_dir: Path | None) -> tuple[ListingAction, ...]:
    from monitor.errors import FeedParseError
    from monitor.feeds.extraction import extract_listing_actions
    from monitor.feeds.wiring import build_clients

    settings = app_context(ctx).settings
    clients = build_clients(settings, source=f"dir:{from_dir}" if from_dir else None, option="--from-dir")
    try:
        record = clients.federal_register.document(number)
        fetched: dict[str, bytes | None] = {}
        problems: dict[str, str | None] = {}
        for kind, url in (("xml", record.full_text_xml_url), ("text", record.raw_text_url)):
            try:
                fetched[kind] = clients.federal_register.full_text(url) if url else None
                problems[kind] = None if url else "no URL published"
            except MonitorError as exc:
                fetched[kind], problems[kind] = None, str(exc)
            if kind == "xml" and fetched[kind] is not None:
                break
    finally:
        clients.close()
    text = fetched.get("text")
    outcome = extract_listing_actions(
        xml=fetched.get("xml"),
        text=text.decode("utf-8", errors="replace") if text is not None else None,
        document_number=number,
        xml_problem=problems.get("xml"),
        text_problem=problems.get("text"),
        max_xml_bytes=settings.feeds.max_xml_bytes,
    )
    if not outcome.actions:
        raise FeedParseError(outcome.error or "no listing actions", document_number=number)
    if outcome.error:
        err_console.print(f"[yellow]{number}: raw-text fallback ({outcome.error})[/yellow]")
    return outcome.actions


def _max_bytes(ctx: typer.Context) -> int:
    return app_context(ctx).settings.feeds.max_xml_bytes


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--since: expected a date such as 2019-10-07, got {value!r}") from None


def _print_actions(target: str, actions: tuple[ListingAction, ...]) -> None:

    emit(
        [
            Column("action", identifier=True),
            Column("entity"),
            Column("aliases"),
            Column("country"),
            Column("addresses", drop=1),
        ],
        [
            [
                a.action.value,
                a.entity_name,
                "; ".join(a.aliases),
                a.country_iso or a.country or "",
                "; ".join(a.addresses),
            ]
            for a in actions
        ],
        title=f"{target}: {len(actions)} listing action(s)",
    )


def _result_json(result: PollResult) -> dict[str, Any]:
    diff = result.csl_diff
    return {
        "feed": result.feed.value,
        "requests": result.requests,
        "seen": result.seen,
        "notes": list(result.notes),
        "csl_diff": None
        if diff is None
        else {"new": len(diff.new), "changed": len(diff.changed), "removed": len(diff.removed)},
        "arrivals": [
            {
                "document_number": a.document_number,
                "title": a.title,
                "html_url": a.html_url,
                "created": a.created,
                "is_entity_list": a.is_entity_list,
                "classification": a.classification,
                "parse_status": a.parse_status.value,
                "parse_error": a.parse_error,
                "listing_actions": [action_json(action) for action in a.listing_actions],
            }
            for a in result.arrivals
        ],
    }


def _print_result(result: PollResult) -> None:

    summary = f"{result.feed.value}: {result.requests} request(s), {result.seen} seen, {len(result.arrivals)} new"
    if result.csl_diff is not None:
        diff = result.csl_diff
        summary += f" (CSL diff: {len(diff.new)} new, {len(diff.changed)} changed, {len(diff.removed)} removed)"
    text_line(summary)
    for note in result.notes:
        text_line(f"  {note}")
    if not result.arrivals:
        return
    emit(
        [
            Column("document", identifier=True),
            Column("entity list"),
            Column("status", identifier=True),
            Column("actions", justify="right"),
            Column("title"),
        ],
        [
            [a.document_number, "yes" if a.is_entity_list else "no", a.parse_status.value, str(len(a.listing_actions)),
             a.title]
            for a in sorted(result.arrivals, key=lambda a: not a.is_entity_list)
        ],
    )  # fmt: skip
