"""Settings: defaults, then an optional TOML file, then ``MONITOR_*`` variables, then command-line flags.

One pydantic-settings class holds everything. Nested sections map to ``MONITOR_SECTION__KEY`` variables and to
``[section]`` tables in the TOML file. Secrets are ``SecretStr`` and only ``explain()`` (masked) ever prints them.
Tests build ``Settings(...)`` directly.
"""

from __future__ import annotations

import contextvars
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from monitor import __version__
from monitor.errors import ConfigError
from monitor.redaction import redact_web_url, url_secrets

ENV_PREFIX = "MONITOR_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "MONITOR_CONFIG"
APP_NAME = "entity-list-monitor"
DEFAULT_FEDERAL_REGISTER_URL = "https://www.federalregister.gov/api/v1"
DEFAULT_CSL_URL = "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json"
DEFAULT_SEC_TICKERS_URL = "https://www.sec.gov/files/company_tickers_exchange.json"
DEFAULT_SLACK_BASE_URL = "https://slack.com/api/"

Relation = Literal["direct", "parent", "subsidiary", "supplier", "customer", "competitor", "named in the text"]
ALL_RELATIONS: tuple[Relation, ...] = (
    "direct",
    "parent",
    "subsidiary",
    "supplier",
    "customer",
    "competitor",
    "named in the text",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(_Section):
    """Outbound HTTP: every feed client is built from these."""

    timeout_seconds: float = Field(20.0, gt=0, description="Connect and per-read timeout of one request, seconds.")
    deadline_seconds: float = Field(
        60.0,
        gt=0,
        description="Overall limit on one download (connect to last byte), seconds: a server trickling bytes "
        "cannot hold a poll longer; the document is retried on the next poll.",
    )
    max_response_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description="Largest response body read, bytes; enforced while streaming, so an endless body stops there.",
    )
    max_retries: int = Field(4, ge=0, le=20, description="Retries on timeouts, 429 and 5xx, per request.")
    backoff_base_seconds: float = Field(1.0, gt=0, description="First retry delay; doubles each retry, seconds.")
    backoff_max_seconds: float = Field(60.0, gt=0, description="Cap on one retry delay, seconds.")
    contact_email: str = Field(
        "",
        description="Contact address sent in the User-Agent (the SEC refuses requests without one).",
    )

    @property
    def user_agent(self) -> str:
        contact = f"; {self.contact_email}" if self.contact_email else ""
        return f"{APP_NAME}/{__version__} (Entity List market-reaction monitor{contact})"


class HttpServerSettings(_Section):
    """The daemon's own HTTP endpoint: /healthz, /readyz and Prometheus /metrics."""

    address: str = Field("127.0.0.1:9108", description="host:port the daemon listens on; empty disables it.")

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value == "":
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected host:port such as 127.0.0.1:9108")
        return value


class SlackSettings(_Section):
    bot_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-...); unset means console alerts.")
    channel: str | None = Field(None, description="Channel ID (C..., G...), not a #name: threads need the ID.")
    base_url: str = Field(DEFAULT_SLACK_BASE_URL, description="Slack Web API base URL, ending in '/'.")
    min_post_interval_seconds: float = Field(
        1.0, ge=0, description="Pause between two posts to the channel (Slack allows about one per second), seconds."
    )
    max_inline_retry_after_seconds: float = Field(
        30.0, ge=0, description="Longest Retry-After slept in the client; longer ones are rescheduled, seconds."
    )
    late_post_window_seconds: float = Field(
        60.0,
        gt=0,
        description="A post Slack never answered (timeout, crash) may still appear this long after it was sent: "
        "the message is looked up, not posted again, until then; at least twice network.timeout_seconds, seconds.",
    )

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("#"):
            raise ValueError("expected a channel ID such as C0123456789, not a #name")
        return value or None

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and bool(self.bot_token.get_secret_value())


class WebhookSettings(_Section):
    url: str | None = Field(None, description="JSON POST target for alerts; unset disables the webhook sink.")
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 key for the X-Monitor-Signature header.")


class PollSettings(_Section):
    """How often each feed is asked. Public inspection is checked every 10 s (one conditional ``current.json``
    request, about 0.1 a second), every 2 s from 2 minutes before to 15 minutes after each posting time: a filing
    reaches the monitor within seconds, and the API never sees more than one request a second from it."""

    public_inspection_seconds: float = Field(10.0, gt=0, description="Public-inspection poll interval, seconds.")
    public_inspection_burst_seconds: float = Field(
        2.0, gt=0, description="Interval around each Federal Register posting time, seconds."
    )
    burst_minutes: int = Field(15, ge=0, description="How long the burst lasts after each posting time, minutes.")
    burst_lead_minutes: int = Field(
        2,
        ge=0,
        description="How long before each posting time the burst starts, minutes (a posting ahead of its slot).",
    )
    documents_seconds: float = Field(300.0, gt=0, description="Federal Register documents poll interval, seconds.")
    csl_hours: float = Field(3.0, gt=0, description="Consolidated Screening List poll interval, hours.")
    outbox_seconds: float = Field(5.0, gt=0, description="Alert delivery interval, seconds.")
    studies_seconds: float = Field(300.0, gt=0, description="Study update and follow-up scan interval, seconds.")


class FeedSettings(_Section):
    """The regulatory feeds: how far each poll looks and how much untrusted input it accepts."""

    documents_per_page: int = Field(
        20, ge=2, le=2000, description="Federal Register results per page on a routine poll (1 is silently 20)."
    )
    backfill_per_page: int = Field(200, ge=2, le=2000, description="Results per page when polling with --since.")
    initial_lookback_days: int = Field(
        30, ge=1, description="How far back the first documents poll of an empty database looks, days."
    )
    max_pages: int = Field(50, ge=1, le=50, description="Pages followed per search (the API resets page > 50).")
    max_xml_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Largest rule XML parsed, bytes; larger input is refused."
    )
    extraction_attempts: int = Field(
        5, ge=1, description="Fetch attempts for a published rule's XML/text before it is marked failed."
    )
    csl_new_listing_max_age_days: int = Field(
        14,
        ge=0,
        description="A new CSL Entity List row becomes a listing action only if its start_date is this recent, days.",
    )


class PriceSettings(_Section):
    source: str = Field("yfinance", description="'yfinance' or 'dir:PATH' (a directory of SYMBOL.csv files).")
    requests_per_second: float = Field(1.0, gt=0, le=10, description="Yahoo request rate, per second.")
    overlap_sessions: int = Field(5, ge=1, description="Sessions re-fetched before the last stored one.")
    bar_margin_minutes: int = Field(30, ge=0, description="Minutes after an exchange's close before a bar is final.")
    rate_limit_backoff_seconds: float = Field(60.0, gt=0, description="First pause after a rate limit, seconds.")
    rate_limit_backoff_max_seconds: float = Field(1800.0, gt=0, description="Longest pause, seconds.")

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if value == "yfinance" or (value.startswith("dir:") and len(value) > 4):
            return value
        raise ValueError("expected 'yfinance' or 'dir:PATH'")


class CalendarSettings(_Section):
    holiday_overrides: dict[str, list[date]] = Field(
        default_factory=dict,
        description="Extra closed days per exchange MIC, e.g. {XSHG = [2027-02-08]}, for years the library lacks.",
    )
    warn_days: int = Field(60, ge=0, description="Warn when a calendar's data ends within this many days.")
    start: date = Field(
        date(2000, 1, 1), description="First date calendars cover (estimation windows reach ~1 year before events)."
    )


class MatchingSettings(_Section):
    auto_threshold: float = Field(0.92, ge=0, le=1, description="Score at or above which a match is confirmed.")
    review_threshold: float = Field(0.80, ge=0, le=1, description="Lowest score stored (unconfirmed) for review.")
    market_universe: bool = Field(
        True,
        description="Ship the market universe (about 5,200 Shanghai, Shenzhen and Hong Kong listings from "
        "FinanceDatabase) into an empty universe, under the curated seed.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> MatchingSettings:
        if self.review_threshold > self.auto_threshold:
            raise ValueError("review_threshold must not exceed auto_threshold")
        return self


class StudySettings(_Section):
    model: Literal["market", "market-adjusted", "constant-mean"] = Field("market", description="Normal-return model.")
    estimation: int = Field(250, ge=30, description="Estimation window length L1, sessions.")
    gap: int = Field(10, ge=0, description="Sessions between the estimation window and the event window.")
    window: tuple[int, int] = Field((-5, 5), description="Event window [first, last] relative to day 0.")
    min_estimation: int = Field(120, ge=30, description="Fewest valid estimation returns for a usable study.")
    min_securities: int = Field(
        5, ge=2, description="An aggregate over fewer securities prints 'n too small' instead of its tests."
    )
    include_partial: bool = Field(
        False, description="Let windows not yet complete (still running, halted) into the aggregates, flagged."
    )
    exclude_dates: list[date] = Field(
        default_factory=list, description="Sessions kept out of every estimation window (known leak days)."
    )
    max_daily_move: float = Field(
        1.0, gt=0, description="Markets without price limits: a session beyond +100%/-50% (for 1.0) is suspect."
    )
    placebo_draws: int = Field(500, ge=0, description="Random non-event dates for the placebo p-value.")
    placebo_seed: int = Field(20191007, description="Seed for the placebo draws, so reports are reproducible.")
    placebo_lookback: int = Field(
        500, ge=0, description="Placebo dates are drawn from this many sessions before the event, sessions."
    )

    @model_validator(mode="after")
    def _window(self) -> StudySettings:
        first, last = self.window
        if first > 0 or last < 0:
            raise ValueError("window must contain day 0")
        return self


ALERT_SINKS: tuple[str, ...] = ("slack", "console", "webhook")


class AlertRoute(_Section):
    relations: list[Relation] = Field(default_factory=lambda: list(ALL_RELATIONS))
    min_score: float = Field(0.0, ge=0, le=1)


class AlertSettings(_Section):
    max_attempts: int = Field(
        8,
        ge=1,
        description="Failed attempts of one delivery after which the operator hears that its sink is failing (the "
        "delivery itself keeps retrying until alerts.max_age_hours); a sink that crashes on an alert (a bug, not an "
        "outage) gives that delivery up after this many attempts.",
    )
    max_age_hours: float = Field(
        24.0,
        gt=0,
        description="Rate limits, server errors and timeouts never exhaust a delivery: it is retried until its alert "
        "has been due this long, then dead, hours.",
    )
    backoff_base_seconds: float = Field(5.0, gt=0, description="First retry delay, seconds; doubles per attempt.")
    backoff_max_seconds: float = Field(
        20.0,
        gt=0,
        description="Cap on one retry delay, seconds: it bounds how long a recovered sink waits for its backlog (a "
        "failing sink gets one try per delivery pass, however many deliveries wait).",
    )
    routes: dict[str, AlertRoute] = Field(
        default_factory=dict, description="Per sink (slack, console, webhook): relations and minimum score."
    )
    mute_symbols: list[str] = Field(default_factory=list, description="Symbols never alerted.")
    mute_entities: list[str] = Field(default_factory=list, description="Entity names never alerted.")
    claim_timeout_seconds: float = Field(
        600.0, gt=0, description="A delivery claimed longer ago than this is presumed crashed and recovered, seconds."
    )
    batch_size: int = Field(50, ge=1, description="Deliveries attempted per worker pass.")
    charts: bool = Field(True, description="Upload an AR/CAR chart with each follow-up (Slack) or save it (console).")
    broadcast_car_threshold: float | None = Field(
        0.05, ge=0, description="Also show a follow-up in the channel when any |CAR| reaches this (fraction)."
    )

    @field_validator("routes")
    @classmethod
    def _known_sinks(cls, value: dict[str, AlertRoute]) -> dict[str, AlertRoute]:
        unknown = sorted(set(value) - set(ALERT_SINKS))
        if unknown:
            raise ValueError(f"unknown sink name; routes are per sink: {', '.join(ALERT_SINKS)}")
        return value


DaemonFeed = Literal["pi", "fr", "csl"]


class DaemonSettings(_Section):
    """``monitor run``: which feeds it polls, how it shares work with replicas, when it counts as ready."""

    feeds: list[DaemonFeed] = Field(
        default_factory=lambda: list[DaemonFeed](["pi", "fr", "csl"]),
        description="Feeds the daemon polls: pi (public inspection), fr (published documents), csl.",
    )
    close_check_seconds: float = Field(
        60.0, gt=0, description="How often the daemon asks the calendars whether an exchange has closed, seconds."
    )
    lease_ttl_seconds: float = Field(
        60.0, ge=5, description="A job's lease expires this long after its holder's last renewal (crash), seconds."
    )
    misfire_grace_seconds: int = Field(
        900, ge=1, description="A run delayed by up to this long (busy pool, suspended host) still runs, seconds."
    )
    shutdown_grace_seconds: float = Field(
        8.0, ge=0, le=60, description="After SIGTERM, how long running jobs may take before the process exits, seconds."
    )
    ready_max_failures: int = Field(
        3, ge=1, description="Consecutive failed polls of a feed after which /readyz reports it (503)."
    )
    ready_stale_polls: float = Field(
        5.0, ge=1, description="A feed is stale in /readyz when its last success is this many poll intervals old."
    )
    ready_stuck_document_seconds: float = Field(
        900.0,
        gt=0,
        description="A document stored but not finished by the pipeline for this long is reported (503) in /readyz,"
        " seconds.",
    )


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["kv", "json"] = Field("kv", description="One event per line: key=value or JSON.")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


# Set while Settings are being loaded so the TOML source knows which file to read.
_config_file: contextvars.ContextVar[Path | None] = contextvars.ContextVar("monitor_config_file", default=None)


class Settings(BaseSettings):
    """Everything the monitor can be told. Each field states its unit; see ``monitor config show``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="Holds the SQLite database and caches.")
    database_url: SecretStr | None = Field(
        None, description="SQLAlchemy URL; unset means SQLite in data_dir. PostgreSQL: postgresql+psycopg://..."
    )
    federal_register_url: str = Field(DEFAULT_FEDERAL_REGISTER_URL, description="Federal Register API v1 base URL.")
    csl_url: str = Field(DEFAULT_CSL_URL, description="Consolidated Screening List bulk file (JSON or CSV).")
    sec_tickers_url: str = Field(DEFAULT_SEC_TICKERS_URL, description="SEC company tickers file for refreshes.")

    network: NetworkSettings = Field(default_factory=NetworkSettings)
    http: HttpServerSettings = Field(default_factory=HttpServerSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    poll: PollSettings = Field(default_factory=PollSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    prices: PriceSettings = Field(default_factory=PriceSettings)
    calendars: CalendarSettings = Field(default_factory=CalendarSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    study: StudySettings = Field(default_factory=StudySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @field_validator("federal_register_url", "csl_url", "sec_tickers_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "file://")):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        """A URL often carries a password, so it is kept as a secret and only ever shown redacted."""
        if value is None or not value.get_secret_value():
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            raise ValueError("not a database URL; expected e.g. postgresql+psycopg://user@host:5432/db") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("unsupported database; use sqlite or postgresql")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'monitor.db'}"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def resolve_config_path(cli_path: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """``--config`` wins over ``MONITOR_CONFIG``; neither means no file."""
    if cli_path is not None:
        return cli_path
    value = (environ if environ is not None else os.environ).get(CONFIG_ENV_VAR, "")
    return Path(value) if value else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}", setting="--config") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", setting="--config") from None


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Build the effective settings, turning every validation problem into one ConfigError line."""
    if config_path is not None:
        _read_toml(config_path)  # fail early, with a clear message, on a missing or malformed file
    token = _config_file.set(config_path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, config_path)) from None
    except SettingsError as exc:  # a MONITOR_SECTION variable holding something other than JSON
        raise ConfigError(_describe_settings_error(exc)) from None
    finally:
        _config_file.reset(token)


def env_var_name(path: tuple[str | int, ...]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part).upper() for part in path)


_FIELD_IN_SETTINGS_ERROR = re.compile(r'field "([^"]+)"')


def _describe_settings_error(exc: SettingsError) -> str:
    """pydantic-settings' parse error names the field and the source; the value (and its cause) stays out."""
    match = _FIELD_IN_SETTINGS_ERROR.search(str(exc))
    field = match.group(1) if match else "settings"
    name = env_var_name((field,))
    return f"{field} ({name} or {name}{ENV_NESTED_DELIMITER}…): a value given as JSON does not parse"


def _describe_validation_error(exc: ValidationError, config_path: Path | None) -> str:
    error = exc.errors()[0]
    loc = tuple(part for part in error["loc"] if isinstance(part, str | int))
    dotted = ".".join(str(part) for part in loc) or "settings"
    where = f"{dotted} ({env_var_name(loc)}" + (f" or {config_path}" if config_path else "") + ")"
    # Only where and what, never the rejected value: a token pasted into the wrong variable would be printed.
    message = str(error["msg"]).removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {message}{suffix}"


# --- explaining the effective settings -------------------------------------------------------------------------


def _flatten(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _flatten(getattr(value, name), (*prefix, name))
    else:
        yield prefix, value


def _lookup(tree: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = tree
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _display(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "******** (set)" if value.get_secret_value() else "(empty)"
    if value is None:
        return "(not set)"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return redact_web_url(value)  # a webhook URL can be a credential: user:password@, ?token=, Slack's path
    return str(value)


def explain(
    settings: Settings, config_path: Path | None = None, cli_overrides: Mapping[str, Any] | None = None
) -> list[tuple[str, str, str]]:
    """(dotted key, display value with secrets masked, where the value came from) for every setting."""
    env_values = EnvSettingsSource(Settings)()
    file_values = _read_toml(config_path) if config_path is not None else {}
    rows: list[tuple[str, str, str]] = []
    for path, value in _flatten(settings):
        shown = redact_url(value.get_secret_value()) if path == ("database_url",) and value else _display(value)
        if cli_overrides and _lookup(cli_overrides, path):
            origin = "command line"
        elif _lookup(env_values, path):
            origin = f"env {env_var_name(path)}"
        elif _lookup(file_values, path):
            origin = f"file {config_path}"
        else:
            origin = "default"
        rows.append((".".join(path), shown, origin))
    rows.append(("(database in use)", redact_url(settings.effective_database_url), "derived"))
    return rows


def redact_url(url: str) -> str:
    """A database URL with its password hidden, for logs and messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def secret_values(settings: Settings) -> list[str]:
    """Every secret's clear value, so the log redactor can scrub them wherever they appear."""
    values: list[str] = []
    for _, value in _flatten(settings):
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    for _, value in _flatten(settings):
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            values += url_secrets(value)
    if settings.database_url is not None:
        from sqlalchemy.engine import make_url

        values.remove(settings.database_url.get_secret_value())  # the URL itself is fine to log redacted
        password = make_url(settings.database_url.get_secret_value()).password
        if password:
            values.append(str(password))
    return values
