"""Credentials inside web URLs: what ``monitor config show`` masks and what the log redactor is told to scrub.

Inputs are URL shapes as documented by their services (Slack incoming webhooks ``/services/T…/B…/<24 chars>``,
query tokens of generic receivers, userinfo of an authenticating proxy); the identifiers are made up.
"""

from __future__ import annotations

import pytest

from monitor.redaction import redact_web_url, url_secrets

SLACK_HOOK = "https://hooks.slack.com/services/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"


@pytest.mark.parametrize(
    ("url", "shown", "secrets"),
    [
        (SLACK_HOOK, "https://hooks.slack.com/services/********/********/********",
         ["T0AB12CDE", "B0FG34HIJ", "q1w2e3r4t5y6u7i8o9p0a1s2"]),
        ("https://hooks.slack.com/workflows/T0AB12CDE/A0123/4567/abcDEF", "https://hooks.slack.com/workflows/"
         "********/********/********/********", ["T0AB12CDE", "A0123", "4567", "abcDEF"]),
        ("https://ops:hunter2@alerts.example:8443/in", "https://********@alerts.example:8443/in", ["ops", "hunter2"]),
        ("https://alerts.example/hook?token=abc&channel=ops&sig=zz9",
         "https://alerts.example/hook?token=********&channel=ops&sig=********", ["abc", "zz9"]),
        ("https://alerts.example/hook/9f8e7d6c5b4a39281706f5e4d3c2b1a0/run",
         "https://alerts.example/hook/********/run", ["9f8e7d6c5b4a39281706f5e4d3c2b1a0"]),
        ("https://alerts.example/hook?Zm9vYmFyMTIzNDU2Nzg5MA", "https://alerts.example/hook?********=",
         ["Zm9vYmFyMTIzNDU2Nzg5MA"]),
        ("https://alerts.example/cb#access_token=abc", "https://alerts.example/cb#********", ["access_token=abc"]),
        ("https://www.federalregister.gov/api/v1", "https://www.federalregister.gov/api/v1", []),
        ("http://127.0.0.1:9000/api/", "http://127.0.0.1:9000/api/", []),
    ],
)  # fmt: skip
def test_credentials_in_web_urls(url: str, shown: str, secrets: list[str]) -> None:
    assert redact_web_url(url) == shown
    assert url_secrets(url) == secrets
    for secret in secrets:
        assert secret not in redact_web_url(url).replace("********", "")


def test_an_unparseable_url_is_not_echoed() -> None:
    assert redact_web_url("http://[::1") == "(unparseable URL)"
    assert url_secrets("http://[::1") == ["http://[::1"]
