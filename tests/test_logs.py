"""Structured logs: one event per line, and secrets scrubbed from our events and from libraries' records."""

from __future__ import annotations

import io
import json
import logging

from pydantic import SecretStr

from monitor.logs import SecretRedactor, configure_logging, get_logger, redactor


def test_one_json_object_per_line_with_secrets_scrubbed() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    redactor.register(["hunter2-hunter2"])
    log = get_logger("tests.logs")
    log.info("poll_done", feed="pi", new=2, token=SecretStr("xoxb-abc"), note="password hunter2-hunter2 leaked")
    logging.getLogger("slack_sdk").warning("request failed for token xoxb-1234-abcd")
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 2
    ours, theirs = (json.loads(line) for line in lines)
    assert ours["event"] == "poll_done"
    assert ours["feed"] == "pi"
    assert ours["new"] == 2
    assert ours["level"] == "info"
    assert ours["token"] == "********"
    assert "hunter2-hunter2" not in lines[0]
    assert theirs["logger"] == "slack_sdk"
    assert "xoxb-1234-abcd" not in lines[1]


def test_key_value_format() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "kv", stream=stream)
    get_logger("tests.logs").warning("feed_retry", feed="fr", attempt=2)
    line = stream.getvalue().strip()
    assert "\n" not in line
    assert "event='feed_retry'" in line
    assert "attempt=2" in line


def test_redactor_patterns() -> None:
    redact = SecretRedactor()
    redact.register(["s3cr3t-value"])
    text = "url=postgresql://svc:pa55@db/x auth=Bearer abc.def token=xoxp-9-9 other s3cr3t-value"
    scrubbed = redact.scrub(text)
    for secret in ("pa55", "abc.def", "xoxp-9-9", "s3cr3t-value"):
        assert secret not in scrubbed
