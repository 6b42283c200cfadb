"""Structured logs: one event per line, ``key=value`` or JSON, with secrets scrubbed before rendering.

Our code logs through structlog (``log = get_logger(__name__); log.info("poll_done", feed="pi", new=2)``).
Third-party libraries (yfinance, APScheduler, httpx, slack-sdk) log through the standard library; their records
are routed through the same processors, so every line on stderr has the same shape and the same redaction.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from pydantic import SecretStr

_SLACK_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9-]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@/\s]+@")
_MASK = "********"


class SecretRedactor:
    """Masks known secret values and anything shaped like a token, in every string of an event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def register(self, values: Iterable[str]) -> None:
        with self._lock:
            merged = set(self._secrets) | {v for v in values if v and len(v) >= 4}
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        text = _SLACK_TOKEN.sub(lambda m: m.group(0)[:5] + _MASK, text)
        text = _BEARER.sub(lambda m: m.group(1) + _MASK, text)
        return _URL_PASSWORD.sub(lambda m: m.group(1) + _MASK + "@", text)

    def _value(self, value: Any) -> Any:
        if isinstance(value, SecretStr):
            return _MASK
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, BaseException):
            return self.scrub(f"{type(value).__name__}: {value}")
        if isinstance(value, dict):
            return {k: self._value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._value(v) for v in value)
        return value

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            event_dict[key] = self._value(event_dict[key])
        return event_dict


redactor = SecretRedactor()


def _pre_chain() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
        structlog.stdlib.PositionalArgumentsFormatter(),
    ]


def configure_logging(level: str = "INFO", fmt: str = "kv", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to one handler on ``stream`` (stderr by default)."""
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        renderer = structlog.processors.KeyValueRenderer(
            key_order=["ts", "level", "event", "logger"], drop_missing=True
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_pre_chain(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redactor, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_monitor_handler", False):
            root.removeHandler(existing)
    handler._monitor_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "urllib3", "peewee", "matplotlib", "PIL", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.configure(
        processors=[*_pre_chain(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
