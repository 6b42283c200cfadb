"""What the outbox tests share: the moment alerts are enqueued at, and settings with every sink configured."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from monitor.config import Settings

NOW = datetime(2019, 10, 7, 20, 20, tzinfo=UTC)


def sink_settings(**alerts: object) -> Settings:
    """Slack and a webhook configured, with ``alerts`` settings (routes, mutes) as given."""
    return Settings(
        slack={"bot_token": SecretStr("xoxb-unit"), "channel": "C0TEST"},
        webhook={"url": "http://127.0.0.1:9/hook"},
        alerts=alerts,
    )
