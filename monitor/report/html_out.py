"""The report as one self-contained HTML file: inline CSS, charts as base64 PNGs, no script, no external link but
the Federal Register's. Every value is escaped; numbers are shown as percent and t-statistics, the CSV keeps them
at full precision."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from monitor.clock import NEW_YORK
from monitor.report.charts import COLORS
from monitor.report.data import EventRecord
from monitor.report.methods import methods_html
from monitor.report.pooled import Test
from monitor.report.summary import SummaryRow, merged_clusters, report_windows
from monitor.safe_text import web_url

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1180px;
color:#1d1d1f;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.82em}th,td{padding:.25em .55em;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.neg{color:#b22222}.pos{color:#2e7d32}.muted{color:#777}.note{font-size:.85em;color:#555}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.4em 0}
nav li{margin:.1em 0}code{background:#f4f4f4;padding:0 .2em}
"""


def pct(value: float | None, digits: int = 2) -> str:
    if value is None:
        return '<span class="muted">—</span>'
    css = "neg" if value < 0 else "pos" if value > 0 else ""
    return f'<span class="{css}">{value * 100:+.{digits}f}%</span>'


def num(value: float | None, digits: int = 2) -> str:
    return '<span class="muted">—</span>' if value is None else f"{value:+.{digits}f}"


def pval(value: float | None) -> str:
    if value is None:
        return '<span class="muted">—</span>'
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def when(moment: datetime) -> str:
    eastern = moment.astimezone(NEW_YORK)
    return f"{eastern:%Y-%m-%d %H:%M} ET ({moment.astimezone(UTC):%H:%M} UTC)"


def image(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()) -> str:
    right = set(numeric)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="n">{c}</td>' if i in right else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _test(test: Test) -> str:
    return f"{num(test.value)} <span class='muted'>(p {pval(test.p_value)})</span>"


def color_key(panels: bool) -> str:
    swatches = " ".join(
        f"<span style='color:{color}'>&#9632;</span>&nbsp;{escape(key)}" for key, color in COLORS.items()
    )
    note = (
        ""
        if panels
        else (
            " Per-security AR panels are drawn for reports of up to 20 events; here each security's CAR path is in the "
            "overlay and its ARs in the table and the CSV."
        )
    )
    return (
        f"<p class='note'>Charts: CAR per security (left; named when an event has at most ten) and CAAR per "
        f"relation group over the AAR bars (right), by colour: {swatches}.{note}</p>"
    )


def summary_section(rows: Sequence[SummaryRow], events: Sequence[EventRecord], chart: bytes | None) -> str:
    body = []
    for row in rows:
        cell = row.cell
        placebo = _test(cell.placebo) + f" <span class='muted'>[{cell.placebo_events} ev]</span>"
        body.append(
            [
                escape(row.group),
                escape(row.window),
                str(cell.events),
                str(cell.clusters),
                str(cell.n),
                pct(cell.mean_car),
                pct(cell.mean_caar),
                f"{(cell.negative_share or 0) * 100:.0f}%",
                _test(cell.cluster_bmp),
                _test(cell.portfolio_t),
                _test(cell.rank_z),
                placebo if cell.placebo.value is not None else '<span class="muted">—</span>',
            ]
        )
    headers = [
        "group", "window", "events", "clusters", "N", "mean CAR", "mean event CAAR", "negative",
        "cluster-adjusted BMP t", "event-portfolio t", "rank Z (Stouffer)", "placebo z (Stouffer)",
    ]  # fmt: skip
    merged = merged_clusters(events)
    note = ""
    if merged:
        listed = "; ".join(", ".join(numbers) for numbers in merged)
        note = f"<p class='note'>Events whose windows overlap, merged into one cluster each: {escape(listed)}.</p>"
    return (
        '<section id="summary"><h2>Across events, by relation</h2>'
        "<p class='note'>One row per relation group and window. The method is stated under "
        "<a href='#methods'>Methods</a>: CARs of different dates are combined as independent clusters, never as one "
        "shared date.</p>"
        + table(headers, body, numeric=range(2, 12))
        + note
        + image(chart, "mean CAR path per relation group across events")
        + "</section>"
    )


def _security_rows(event: EventRecord, windows: Sequence[str]) -> list[list[str]]:
    rows = []
    for study in event.studies:
        day0 = study.day(0)
        halt = ""
        if study.day0_halted and study.reaction_date:
            halt = f"halted on day 0; first trade {study.reaction_date.isoformat()}"
        cells = [
            f"<b>{escape(study.symbol)}</b>",
            escape(study.issuer),
            escape(study.relation),
            escape(study.exchange_mic or "—"),
            study.day0.isoformat() if study.day0 else "—",
            escape(study.status),
            pct(day0.ar if day0 else None),
        ]
        for label in windows:
            window = study.windows.get(label)
            if window is None or window.car is None:
                cells.append('<span class="muted">—</span>')
            else:
                cells.append(f"{pct(window.car)} <span class='muted'>({num(window.t)})</span>")
        note = "; ".join(part for part in (halt or study.reason or "", study.flagged_days) if part)
        cells.append(escape(note))
        rows.append(cells)
    return rows


def _group_rows(event: EventRecord) -> list[list[str]]:
    rows = []
    keys = sorted(event.groups, key=lambda key: (key != "all", key))
    for key in keys:
        stats = event.groups[key]
        for label in [event.main_label, *(w for w in report_windows([event]) if w != event.main_label)]:
            tests = stats.window(label, event.main_label)
            if not tests:
                continue
            p = tests.get("p_values") or {}
            placebo = pval(tests.get("placebo_p")) if label == event.main_label else '<span class="muted">—</span>'
            rows.append(
                [
                    escape(key),
                    escape(label),
                    str(tests.get("n", stats.n)),
                    pct(tests.get("caar")),
                    f"{num(tests.get('kp_bmp_t'))} <span class='muted'>(p {pval(p.get('kp_bmp_t'))})</span>",
                    f"{num(tests.get('portfolio_t'))} <span class='muted'>(p {pval(p.get('portfolio_t'))})</span>",
                    f"{num(tests.get('rank_z'))} <span class='muted'>(p {pval(p.get('rank_z'))})</span>",
                    placebo,
                    num(tests.get("mean_residual_correlation"), 3),
                ]
            )
    return rows


def event_section(event: EventRecord, charts: Mapping[str, bytes | None]) -> str:
    windows = report_windows([event])
    url = web_url(event.html_url)  # a javascript: link from the feed is never clickable
    link = f"<a href='{escape(url)}' rel='noopener noreferrer'>Federal Register</a>" if url else ""
    facts = (
        f"<p>FR Doc {escape(event.document_number)} · announced {when(event.announced_at)} "
        f"({escape(event.announced_source.replace('_', ' '))})"
        + (f" · published {event.publication_date.isoformat()}" if event.publication_date else "")
        + (" · backfilled" if event.is_backfill else "")
        + (f" · {link}" if link else "")
        + "</p>"
    )
    headers = ["symbol", "issuer", "relation", "exchange", "day 0", "status", "AR day 0"]
    headers += [f"CAR {label} (t)" for label in windows] + ["note"]
    securities = table(headers, _security_rows(event, windows), numeric=range(6, 7 + len(windows)))
    group_headers = ["group", "window", "N", "CAAR", "KP-BMP t", "portfolio t", "rank Z", "placebo p", "r̄"]
    groups = table(group_headers, _group_rows(event), numeric=range(2, 9))
    return (
        f'<section id="event-{event.event_id}"><h2>{escape(event.document_number)} — {escape(event.title)}</h2>'
        + facts
        + securities
        + image(charts.get("event"), f"CAR and CAAR paths, {event.document_number}")
        + image(charts.get("panels"), f"AR and CAR per security, {event.document_number}")
        + "<h3>Tests of the CAAR</h3>"
        + groups
        + "</section>"
    )


def _not_studied(rows: Sequence[tuple[str, str]]) -> str:
    """The rules asked for that have no study to show, each with why, so the report says what it leaves out."""
    if not rows:
        return ""
    items = "".join(f"<li>{escape(label)}: {escape(reason)}</li>" for label, reason in rows)
    return f"<section id='not-studied'><h2>Not studied</h2><ul>{items}</ul></section>"


def render(
    events: Sequence[EventRecord],
    summary: Sequence[SummaryRow],
    charts: Mapping[int, Mapping[str, bytes | None]],
    summary_chart: bytes | None,
    *,
    generated_at: datetime,
    parameters: Sequence[Mapping[str, Any]],
    panels: bool = True,
    not_studied: Sequence[tuple[str, str]] = (),
) -> str:
    toc = "".join(
        f"<li><a href='#event-{e.event_id}'>{escape(e.document_number)}</a> {escape(e.title)} · "
        f"{e.announced_at.astimezone(NEW_YORK):%Y-%m-%d} · {sum(s.usable for s in e.studies)} securities</li>"
        for e in events
    )
    sections = "".join(event_section(event, charts.get(event.event_id, {})) for event in events)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Entity List event study: {len(events)} event(s)</title><style>{STYLE}</style></head><body>"
        f"<h1>Entity List event study</h1><p class='note'>{len(events)} event(s) · generated "
        f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by entity-list-monitor · fractions in the "
        "CSV beside this file</p>"
        f"<nav><h2>Events</h2><ol>{toc}</ol></nav>"
        + _not_studied(not_studied)
        + color_key(panels)
        + summary_section(summary, events, summary_chart)
        + sections
        + methods_html(parameters)
        + "</body></html>"
    )
