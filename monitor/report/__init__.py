"""Reports of stored event studies: one self-contained HTML file (tables, charts as embedded PNGs, the methods and
parameters used) and a CSV of every (event, security), for one event or all of them, with a cross-event summary
by relation.

``write_report(sessions, out_dir, event_ids=None, now=...)`` writes ``report.html`` and ``report.csv`` into
``out_dir`` and returns their paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import InputError
from monitor.logs import get_logger

log = get_logger(__name__)

HTML_NAME = "report.html"
PANEL_EVENTS = 20  # per-security panels for reports of up to this many events (a dozen axes each is slow to draw)
CSV_NAME = "report.csv"


def chart_cache_dir(data_dir: Path) -> Path:
    """Where the CLI keeps completed events' charts between reports."""
    return data_dir / "cache" / "charts"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    csv: Path
    events: int
    rows: int  # (event, security) rows in the CSV
    not_studied: tuple[tuple[str, str], ...] = ()  # (event, why) left out of the report


def write_report(
    sessions: sessionmaker[Session],
    out_dir: Path,
    event_ids: Sequence[int] | None = None,
    *,
    now: datetime,
    on_event: Callable[[int], None] | None = None,
    not_studied: Mapping[int, tuple[str, str]] | None = None,
    chart_cache: Path | None = None,
) -> ReportFiles:
    """Write the report of ``event_ids`` (every studied event when None); ``InputError`` when there is nothing.

    ``not_studied`` (event id -> (label, why)): events asked for that may have no stored study; the report covers
    the others and lists these with their reasons instead of refusing (what a backfill with a failed rule needs).
    An asked-for event that has no study and is not in it is an error naming it.
    ``chart_cache``: a directory keeping completed events' charts between reports (drawing is most of a report's
    time); a chart is reused only while its event's stored study is unchanged."""
    from monitor.report.charts import ChartCache, cross_event_chart, start_drawing
    from monitor.report.csv_out import write_csv
    from monitor.report.data import load_events
    from monitor.report.html_out import render
    from monitor.report.summary import cross_event_summary

    with sessions() as session:
        events = load_events(session, event_ids)
    skipped: list[tuple[str, str]] = []
    if event_ids is not None:
        missing = sorted(set(event_ids) - {event.event_id for event in events})
        explained = not_studied or {}
        unexplained = [event_id for event_id in missing if event_id not in explained]
        if unexplained:
            raise InputError(
                f"no stored study for event(s) {', '.join(map(str, unexplained))} (`monitor events show N` says why)"
            )
        skipped = [explained[event_id] for event_id in missing]
    if not events:
        if skipped:
            raise InputError("no report: none of the events could be studied (" + "; ".join(
                f"{label}: {why}" for label, why in skipped) + ")")  # fmt: skip
        raise InputError("no studied events in the database yet: run `monitor backfill` or let the daemon run")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot create the directory: {exc.strerror or exc}") from None
    panels = len(events) <= PANEL_EVENTS
    html_path, csv_path = out_dir / HTML_NAME, out_dir / CSV_NAME
    cache = ChartCache(chart_cache) if chart_cache is not None else None
    # The event charts are drawn in worker processes while this one writes the CSV and works out the summary.
    with start_drawing(events, panels=panels, cache=cache) as drawing:
        try:
            rows = write_csv(csv_path, events)
        except OSError as exc:
            raise InputError(f"--out {out_dir}: cannot write the report: {exc.strerror or exc}") from None
        summary = cross_event_summary(events)
        across = cross_event_chart(events) if len(events) > 1 else None
        charts = drawing.result()
    if on_event is not None:
        for event in events:
            on_event(event.event_id)
    html = render(
        events,
        summary,
        charts,
        across,
        generated_at=now,
        parameters=[event.parameters for event in events],
        panels=panels,
        not_studied=skipped,
    )
    try:
        html_path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot write the report: {exc.strerror or exc}") from None
    log.info("report_written", html=str(html_path), csv=str(csv_path), events=len(events), rows=rows)
    return ReportFiles(html_path, csv_path, len(events), rows, tuple(skipped))


__all__ = ["CSV_NAME", "HTML_NAME", "ReportFiles", "chart_cache_dir", "write_report"]
