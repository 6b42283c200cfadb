"""The console sink: the default when no Slack token is set, showing what Slack would, readable in a terminal."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alerts import reconcile
from alerts import text as t
from alerts.chart import chart_filename, has_chart, render_chart
from alerts.sink import Checkpoint, Outgoing, Receipt
from monitor.logs import get_logger
from monitor.models import ActionKind
from monitor.outbox import (
    AnyAlert,
    DetectedAlert,
    EntityListReply,
    FollowUpAlert,
    MatchedSecurity,
    OperatorAlert,
    ReconcileAlert,
)

log = get_logger(__name__)

MAX_ENTITY_LINES = 200  # per action, in the reply


def render(alert: AnyAlert, *, reply_to: str | None = None) -> RenderableType:
    """A rich panel with the same content as the Slack card."""
    if isinstance(alert, DetectedAlert):
        body, style = _detected(alert), "red"
    elif isinstance(alert, EntityListReply):
        body, style = _entity_reply(alert), "red"
    elif isinstance(alert, FollowUpAlert):
        body, style = _follow_up(alert), "cyan"
    elif isinstance(alert, ReconcileAlert):
        body, style = _reconciled(alert), "magenta"
    else:
        body, style = _operator(alert), "yellow"
    subtitle = f"reply to {reply_to}" if reply_to else None
    return Panel(body, title=Text(t.title(alert), style="bold"), subtitle=subtitle, border_style=style, expand=True)


def _detected(alert: DetectedAlert) -> RenderableType:
    """As the Slack card: the rule, the securities by group, the entity count (the list follows as a reply)."""
    parts: list[RenderableType] = [Text(alert.title, style="bold")]
    parts.append(Text(" · ".join(t.detected_facts(alert))))
    note = t.extraction_note(alert)
    if note is not None:
        warning, text = note
        parts.append(Text(text, style="yellow" if warning else "dim"))
    shown, rest = t.card_split(alert.securities)
    if shown:
        parts.append(_securities_table(shown, title="Listed securities hit"))
    if rest:
        parts.append(Text(f"…and {len(rest)} more securities in the reply"))
    summary = t.entities_summary(alert, where="in the reply")
    if summary is not None:
        parts.append(Text(summary, style="bold"))
    parts.append(Text(_links(alert), style="dim"))
    return Group(*parts)


def _securities_table(securities: list[MatchedSecurity], *, title: str) -> Text:
    """The securities by group, each as on the Slack card: ticker, exchange, issuer; via entity, why; last price."""
    text = Text(title + "\n", style="bold")
    for label, members in t.grouped(securities):
        text.append(f"{label} ({len(members)})\n", style="bold")
        for s in members:
            review = " (to review)" if not s.confirmed else ""
            style = "red" if (s.move or 0) < 0 else "green" if (s.move or 0) > 0 else ""
            text.append(f"  {s.symbol:<11} {s.exchange_mic:<5} {s.issuer} · {s.relation.value}{review}\n")
            via = f"via {s.entity_name}: " if s.entity_name else ""
            text.append(f"    {via}{t.why(s)}\n", style="dim")
            text.append(f"    {t.last_text(s)}\n", style=style)
    text.rstrip()
    return text


def _entity_reply(alert: EntityListReply) -> RenderableType:
    """As the Slack reply: every entity by action, aliases shortened, then the securities the card cut."""
    parts: list[RenderableType] = []
    for kind in ActionKind:
        members = [e for e in alert.entities if e.action is kind]
        if not members:
            continue
        shown = [t.entity_line(e) for e in members[:MAX_ENTITY_LINES]]
        more = f"\n  …and {len(members) - len(shown)} more" if len(members) > len(shown) else ""
        parts.append(Text(f"{t.action_counts(members).capitalize()}:\n  " + "\n  ".join(shown) + more))
    rest = t.card_split(alert.securities)[1]
    if rest:
        parts.append(_securities_table(rest, title=f"More securities ({len(rest)})"))
    parts.append(Text(_links(alert), style="dim"))
    return Group(*parts)


def _follow_up(alert: FollowUpAlert) -> RenderableType:
    parts: list[RenderableType] = [Text(alert.title, style="bold"), Text(t.close_text(alert), style="dim")]
    for headline in alert.headlines:
        parts.append(Text(t.headline_text(headline)))
    if alert.securities:
        table = Table(expand=True)
        car = f"CAR{t.window(alert.car_window)}"
        for column in ("symbol", "relation", "day 0", "through", "AR", car, "t", "note"):
            table.add_column(column, justify="right" if column in ("AR", car, "t") else "left")
        for s in t.sorted_lines(alert.securities):
            style = "red" if (s.car or 0) < 0 else "green" if (s.car or 0) > 0 else ""
            table.add_row(
                s.symbol,
                s.relation.value,
                s.day0.isoformat() if s.day0 else t.MISSING,
                s.through.isoformat() if s.through else t.MISSING,
                t.pct(s.ar, 2),
                Text(t.pct(s.car, 2), style),
                t.number(s.car_t),
                t.study_note(s),
            )
        parts.append(table)
    parts.append(Text(_links(alert), style="dim"))
    return Group(*parts)


def _reconciled(alert: ReconcileAlert) -> RenderableType:
    """As the Slack reply: what the published rule changed, or that it confirms the filing."""
    parts = [f"{heading}:\n  " + "\n  ".join(lines) for heading, lines in reconcile.change_lines(alert)]
    return Text("\n".join([reconcile.summary(alert), *parts]))


def _operator(alert: OperatorAlert) -> RenderableType:
    lines = [alert.detail or ""]
    if alert.failed_delivery_id is not None:
        lines.append(f"retry with: monitor alerts retry {alert.failed_delivery_id}")
    lines.append(f"raised {t.when(alert.raised_at)}")
    return Text("\n".join(line for line in lines if line))


def _links(alert: DetectedAlert | EntityListReply | FollowUpAlert) -> str:
    links = [f"Federal Register: {alert.federal_register_url}"] if alert.federal_register_url else []
    if isinstance(alert, DetectedAlert) and alert.public_inspection_pdf_url:
        links.append(f"public inspection PDF: {alert.public_inspection_pdf_url}")
    links.append(f"event {alert.event_id}")
    return " · ".join(links)


class ConsoleSink:
    name = "console"
    threads = False  # a follow-up names its root instead of waiting for it

    def __init__(self, console: Console | None = None, *, chart_dir: Path | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=False)
        self.chart_dir = chart_dir

    def deliver(self, item: Outgoing, checkpoint: Checkpoint) -> Receipt:
        alert = item.alert
        reply_to = item.root.dedup_key if item.root is not None else None
        self.console.print(render(alert, reply_to=reply_to))
        detail: dict[str, str] = {}
        if isinstance(alert, FollowUpAlert) and self.chart_dir is not None and has_chart(alert):
            path = self._save_chart(alert, item.dedup_key)
            if path is not None:
                self.console.print(Text(f"chart: {path}", style="dim"))
                detail["chart"] = str(path)
        return Receipt(detail=detail)

    def _save_chart(self, alert: FollowUpAlert, key: str) -> Path | None:
        assert self.chart_dir is not None
        try:
            png = render_chart(alert)
            self.chart_dir.mkdir(parents=True, exist_ok=True)
            path = self.chart_dir / chart_filename(key)
            path.write_bytes(png)
        except (OSError, ValueError) as exc:  # the alert itself is already on screen; a chart is a bonus
            log.warning("chart_not_saved", dedup_key=key, error=f"{type(exc).__name__}: {exc}")
            return None
        return path

    def send_test(self, text: str) -> str:
        self.console.print(Panel(Text(text), title="monitor alerts test", border_style="green"))
        return "printed to the terminal"
