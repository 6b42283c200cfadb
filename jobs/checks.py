"""Start-up checks of ``monitor run``: one clear line each, and a refusal only where running would be wrong.

- database: reachable, migrated (the embedded SQLite file is upgraded; PostgreSQL must be upgraded by the
  operator with ``monitor db upgrade``, and the daemon refuses to start on a stale schema) and writable (a
  read-only file, data directory or replica is refused in one line, exit 3);
- universe: seeded (the shipped seed is loaded into an empty universe);
- calendars: cover the next ``calendars.warn_days`` days; a calendar running out is a warning, not a refusal
  (studies on it stay pending until its holidays are added);
- Slack: ``auth.test`` when a token is configured; a refused token stops the daemon (alerts could never be
  delivered), an unreachable Slack is a warning (the outbox keeps the alerts until it answers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Settings
from monitor.errors import ConfigError, MonitorError
from monitor.prices.calendars import Calendars

if TYPE_CHECKING:
    from slack_sdk import WebClient

Level = Literal["ok", "warn", "fail"]
# Builds the Slack client from settings (``alerts.slack.make_client``, handed in by the composition root).
SlackClientFactory = Callable[[Settings], "WebClient"]

# Slack answers these when the token itself is wrong: no retry will help.
_BAD_TOKEN = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}


@dataclass(frozen=True)
class StartupCheck:
    name: str
    level: Level
    detail: str
    error: MonitorError | None = None

    @property
    def line(self) -> str:
        return f"{self.name}: {self.detail}"


def database_check(engine: Callable[[], Engine]) -> StartupCheck:
    """``engine()`` connects and checks the schema (upgrading the embedded database), as ``AppContext`` does."""
    from monitor.db import migrate

    try:
        built = engine()
        state = migrate.status(built)
        migrate.check_writable(built)
    except MonitorError as exc:
        return StartupCheck("database", "fail", str(exc), exc)
    return StartupCheck("database", "ok", f"{state.url} reachable, schema at revision {state.current} (current)")


def universe_check(sessions: sessionmaker[Session], *, market: bool = True) -> StartupCheck:
    from monitor.db.census import row_counts
    from monitor.db.tables import Exposure, SecurityRow
    from monitor.matching import ensure_seed_universe

    with sessions.begin() as session:
        seeded = ensure_seed_universe(session, market=market)
    securities, exposures = row_counts(sessions, SecurityRow, Exposure)
    if securities == 0:
        return StartupCheck("universe", "warn", "no securities: rules will be alerted without matched securities")
    how = "seeded from the shipped seed" if seeded is not None else "loaded"
    return StartupCheck("universe", "ok", f"{securities} securities and {exposures} exposures ({how})")


def calendars_check(calendars: Calendars, now: datetime, *, warn_days: int) -> list[StartupCheck]:
    warnings = calendars.coverage(now, warn_days=warn_days)
    if not warnings:
        return [StartupCheck("calendars", "ok", f"every exchange calendar covers the next {warn_days} days")]
    return [StartupCheck(f"calendar {w.calendar}", "warn", w.message) for w in warnings]


def slack_check(settings: Settings, make_client: SlackClientFactory) -> StartupCheck:
    if not settings.slack.enabled:
        return StartupCheck("slack", "ok", "not configured: alerts go to the console")
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        client = make_client(settings)
        client.retry_handlers = []  # one attempt: an unreachable Slack is a warning, not a reason to wait
        auth = client.auth_test()
    except ConfigError as exc:
        return StartupCheck("slack", "fail", str(exc), exc)
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {exc.response.status_code}")
        if code in _BAD_TOKEN:
            error = ConfigError(
                f"Slack refused the bot token ({code}); check MONITOR_SLACK__BOT_TOKEN", setting="slack.bot_token"
            )
            return StartupCheck("slack", "fail", str(error), error)
        return StartupCheck(
            "slack", "warn", f"auth.test failed ({code}); alerts wait in the outbox until Slack answers"
        )
    except (SlackClientError, OSError) as exc:
        return StartupCheck(
            "slack", "warn", f"Slack unreachable ({type(exc).__name__}); alerts wait in the outbox until it answers"
        )
    return StartupCheck(
        "slack",
        "ok",
        f"authenticated as {auth.get('user')} in {auth.get('team')}; posting to channel {settings.slack.channel}",
    )
