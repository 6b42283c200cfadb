"""What the delivery worker hands a sink, what a sink answers, and the protocol every sink implements."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitor.outbox import AnyAlert, DetectedAlert

# Commit what a sink has done so far (e.g. {"ts": ...} once the message is posted) before its next step, so a
# crash or failure after that point resumes instead of repeating the step. Raises ClaimLost if another worker
# took the delivery over meanwhile.
Checkpoint = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class RootMessage:
    """Where a follow-up's thread lives: the detected alert's message as one sink delivered it."""

    dedup_key: str
    alert: DetectedAlert | None  # as that sink saw it (routing applied); None if it no longer parses
    channel: str | None
    external_id: str | None  # Slack: the message ts


@dataclass(frozen=True)
class Outgoing:
    """One delivery attempt of one alert to one sink."""

    delivery_id: int
    alert_id: int
    dedup_key: str
    sink: str
    alert: AnyAlert  # already routed: only what this sink should show
    attempt: int  # 1 on the first try
    maybe_delivered: bool  # an earlier attempt may have reached the sink: look before sending again
    created_at: datetime  # wall-clock time the alert was queued; nothing can have been sent before it
    progress: Mapping[str, Any] = field(default_factory=dict)  # steps an earlier attempt completed
    root: RootMessage | None = None  # for follow-ups whose thread root was delivered to this sink


@dataclass(frozen=True)
class Receipt:
    """What the sink answered: stored on the delivery row."""

    external_id: str | None = None
    channel: str | None = None
    thread_ref: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """A destination for alerts. ``deliver`` raises DeliveryFailed (retry later) or DeliveryRejected (dead)."""

    name: str
    threads: bool  # True when follow-ups must wait for their root message to be delivered first

    def deliver(self, item: Outgoing, checkpoint: Checkpoint) -> Receipt: ...

    def send_test(self, text: str) -> str:
        """Send a one-off test message now; returns what the sink answered, in one line."""
        ...
