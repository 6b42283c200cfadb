"""Build the configured sinks from settings: the composition root (``monitor.cli``, the jobs) calls this."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from alerts.sink import Sink
from monitor.config import Settings
from monitor.outbox import configured_sinks


def build_sink(
    name: str,
    settings: Settings,
    *,
    console: Console | None = None,
    webhook_transport: Any = None,
    slack_options: dict[str, Any] | None = None,
) -> Sink:
    """One sink by name (slack, webhook, console). Connects to nothing until it sends; raises ConfigError."""
    if name == "slack":
        from alerts.slack import SlackSink

        return SlackSink.from_settings(settings, **(slack_options or {}))
    if name == "webhook":
        from alerts.webhook import WebhookSink

        return WebhookSink.from_settings(settings, transport=webhook_transport)
    if name == "console":
        from alerts.console import ConsoleSink

        return ConsoleSink(console, chart_dir=settings.data_dir / "charts" if settings.alerts.charts else None)
    raise ValueError(f"unknown sink {name!r}")


def build_sinks(settings: Settings, **options: Any) -> dict[str, Sink]:
    """Every configured sink, keyed by name (see ``monitor.outbox.configured_sinks``), plus the console.

    The console is always there to deliver to, even when alerts are not routed to it: it is where an operator
    alert lands when the only configured sink is the one failing.
    """
    names = dict.fromkeys([*configured_sinks(settings), "console"])
    return {name: build_sink(name, settings, **options) for name in names}
