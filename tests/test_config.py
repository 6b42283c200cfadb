"""Settings: layering, provenance, validation messages and secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from monitor.config import Settings, explain, load_settings, resolve_config_path, secret_values
from monitor.errors import ConfigError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == tmp_path / "data"  # MONITOR_DATA_DIR, set for every test
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
    assert settings.uses_embedded_database
    assert settings.federal_register_url == "https://www.federalregister.gov/api/v1"
    assert settings.poll.public_inspection_seconds == 10  # a filing is seen within seconds (issue 17)
    assert settings.slack.enabled is False


def test_operator_variables_named_in_the_runbook(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "MONITOR_FEDERAL_REGISTER_URL": "http://127.0.0.1:8080/api/v1/",
        "MONITOR_CSL_URL": "http://127.0.0.1:8080/consolidated.json",
        "MONITOR_SLACK__BOT_TOKEN": "xoxb-123-abc",
        "MONITOR_SLACK__CHANNEL": "C0123456",
        "MONITOR_SLACK__BASE_URL": "http://127.0.0.1:9000/api",
        "MONITOR_PRICES__SOURCE": "dir:/srv/prices",
        "MONITOR_POLL__PUBLIC_INSPECTION_SECONDS": "2",
        "MONITOR_POLL__DOCUMENTS_SECONDS": "3",
        "MONITOR_HTTP__ADDRESS": "127.0.0.1:0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.federal_register_url == "http://127.0.0.1:8080/api/v1"
    assert settings.csl_url == "http://127.0.0.1:8080/consolidated.json"
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-123-abc"
    assert settings.slack.channel == "C0123456"
    assert settings.slack.base_url == "http://127.0.0.1:9000/api/"
    assert settings.slack.enabled
    assert settings.prices.source == "dir:/srv/prices"
    assert settings.poll.public_inspection_seconds == 2
    assert settings.poll.documents_seconds == 3
    assert settings.http.address == "127.0.0.1:0"


def test_layering_flag_over_env_over_file_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _write(
        tmp_path / "monitor.toml",
        "[poll]\ndocuments_seconds = 120\noutbox_seconds = 2\n[study]\nestimation = 200\nwindow = [-1, 1]\n"
        '[log]\nlevel = "WARNING"\n',
    )
    monkeypatch.setenv("MONITOR_POLL__DOCUMENTS_SECONDS", "90")
    monkeypatch.setenv("MONITOR_LOG__LEVEL", "ERROR")
    overrides = {"log": {"level": "DEBUG"}}
    settings = load_settings(config, **overrides)
    assert settings.poll.documents_seconds == 90  # env beats file
    assert settings.poll.outbox_seconds == 2  # file beats default
    assert settings.study.estimation == 200
    assert settings.study.window == (-1, 1)
    assert settings.log.level == "DEBUG"  # flag beats env
    origins = {key: source for key, _, source in explain(settings, config, overrides)}
    assert origins["poll.documents_seconds"] == "env MONITOR_POLL__DOCUMENTS_SECONDS"
    assert origins["poll.outbox_seconds"] == f"file {config}"
    assert origins["log.level"] == "command line"
    assert origins["poll.csl_hours"] == "default"
    assert origins["data_dir"] == "env MONITOR_DATA_DIR"


def test_config_path_from_flag_or_environment() -> None:
    assert resolve_config_path(Path("a.toml"), {"MONITOR_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_config_path(None, {"MONITOR_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_config_path(None, {}) is None


def test_secrets_are_masked_everywhere_they_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_SLACK__BOT_TOKEN", "xoxb-very-secret-token")
    monkeypatch.setenv("MONITOR_WEBHOOK__SECRET", "hmac-key-123")
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://svc:db-pass-9@db:5432/monitor")
    settings = load_settings()
    shown = "\n".join(f"{k} {v} {s}" for k, v, s in explain(settings))
    for secret in ("xoxb-very-secret-token", "hmac-key-123", "db-pass-9"):
        assert secret not in shown
        assert secret not in repr(settings)
    assert "******** (set)" in shown
    assert set(secret_values(settings)) == {"xoxb-very-secret-token", "hmac-key-123", "db-pass-9"}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MONITOR_POLL__DOCUMENTS_SECONDS", "abc", "poll.documents_seconds (MONITOR_POLL__DOCUMENTS_SECONDS)"),
        ("MONITOR_POLL__DOCUMENTS_SECONDS", "-5", "greater than 0"),
        ("MONITOR_PRICES__SOURCE", "bloomberg", "expected 'yfinance' or 'dir:PATH'"),
        ("MONITOR_DATABASE_URL", "mysql://x", "database_url (MONITOR_DATABASE_URL): unsupported database"),
        ("MONITOR_DATABASE_URL", "not a url", "database_url (MONITOR_DATABASE_URL): not a database URL"),
        ("MONITOR_HTTP__ADDRESS", "localhost", "expected host:port"),
        ("MONITOR_FEDERAL_REGISTER_URL", "ftp://x", "expected an http(s) URL"),
        ("MONITOR_STUDY__WINDOW", "[1, 5]", "window must contain day 0"),
        ("MONITOR_LOG__LEVEL", "LOUD", "log.level (MONITOR_LOG__LEVEL)"),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = _write(tmp_path / "bad.toml", "[poll]\ndocument_seconds = 5\n")
    with pytest.raises(ConfigError, match=r"poll\.document_seconds .*Extra inputs are not permitted"):
        load_settings(config)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*missing\.toml"):
        load_settings(tmp_path / "missing.toml")
    broken = _write(tmp_path / "broken.toml", "[poll\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(broken)


def test_settings_can_be_built_directly_in_tests(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, slack={"bot_token": SecretStr("xoxb-1"), "channel": "C1"})
    assert settings.slack.enabled
    assert settings.effective_database_url.startswith("sqlite:///")


def test_review_threshold_cannot_exceed_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_MATCHING__REVIEW_THRESHOLD", "0.99")
    with pytest.raises(ConfigError, match="review_threshold must not exceed auto_threshold"):
        load_settings()


LEAK = "xoxb-2001-leaked-token"  # a Slack token pasted into the wrong variable


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MONITOR_POLL__DOCUMENTS_SECONDS", LEAK, "poll.documents_seconds (MONITOR_POLL__DOCUMENTS_SECONDS)"),
        ("MONITOR_SLACK__CHANNEL", f"#{LEAK}", "slack.channel (MONITOR_SLACK__CHANNEL): expected a channel ID"),
        ("MONITOR_PRICES__SOURCE", LEAK, "prices.source (MONITOR_PRICES__SOURCE)"),
        ("MONITOR_HTTP__ADDRESS", LEAK, "http.address (MONITOR_HTTP__ADDRESS): expected host:port"),
        ("MONITOR_FEDERAL_REGISTER_URL", LEAK, "federal_register_url (MONITOR_FEDERAL_REGISTER_URL)"),
        ("MONITOR_LOG__LEVEL", LEAK, "log.level (MONITOR_LOG__LEVEL)"),
        ("MONITOR_DATABASE_URL", f"mysql://svc:{LEAK}@db/x", "database_url (MONITOR_DATABASE_URL)"),
        ("MONITOR_STUDY__WINDOW", LEAK, "study (MONITOR_STUDY or MONITOR_STUDY__"),
        ("MONITOR_DAEMON__FEEDS", f'["{LEAK}"]', "daemon.feeds.0 (MONITOR_DAEMON__FEEDS__0)"),
        ("MONITOR_ALERTS__ROUTES", f'{{"{LEAK}": {{}}}}', "alerts.routes (MONITOR_ALERTS__ROUTES): unknown sink"),
    ],
)
def test_a_rejected_value_is_never_echoed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "xoxb" not in message
    assert "leaked" not in message
    assert caught.value.__cause__ is None  # nor in a chained exception a traceback could print


def test_web_url_credentials_are_masked_when_shown_and_given_to_the_log_redactor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = "https://hooks.slack.com/services/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"
    monkeypatch.setenv("MONITOR_WEBHOOK__URL", hook)
    monkeypatch.setenv("MONITOR_SLACK__BASE_URL", "https://relay:r3lay-pass@proxy.example:8443/slack/api/")
    settings = load_settings()
    shown = {key: value for key, value, _ in explain(settings)}
    assert shown["webhook.url"] == "https://hooks.slack.com/services/********/********/********"
    assert shown["slack.base_url"] == "https://********@proxy.example:8443/slack/api/"
    assert shown["federal_register_url"] == "https://www.federalregister.gov/api/v1"  # a plain URL stays readable
    secrets = set(secret_values(settings))
    assert {"T0AB12CDE", "B0FG34HIJ", "q1w2e3r4t5y6u7i8o9p0a1s2", "relay", "r3lay-pass"} <= secrets
