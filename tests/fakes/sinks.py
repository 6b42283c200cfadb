"""A recording sink for tests that care about what the outbox hands over, not how a destination renders it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from alerts.sink import Checkpoint, Outgoing, Receipt

Behaviour = Exception | Callable[[Outgoing], Receipt]


class FakeSink:
    """Records every ``Outgoing``; scripted exceptions (or callables) are used first, in order."""

    def __init__(self, name: str = "console", *, threads: bool = False, always: Exception | None = None) -> None:
        self.name = name
        self.threads = threads
        self.always = always
        self.script: deque[Behaviour] = deque()
        self.attempts: list[Outgoing] = []
        self.sent: list[Outgoing] = []
        self.tests: list[str] = []

    def fail(self, *behaviours: Behaviour) -> FakeSink:
        self.script.extend(behaviours)
        return self

    def deliver(self, item: Outgoing, checkpoint: Checkpoint) -> Receipt:
        self.attempts.append(item)
        if self.always is not None:
            raise self.always
        if self.script:
            behaviour = self.script.popleft()
            if isinstance(behaviour, Exception):
                raise behaviour
            return behaviour(item)
        self.sent.append(item)
        return Receipt(external_id=f"{self.name}-{item.delivery_id}", detail={"seen": len(self.sent)})

    def send_test(self, text: str) -> str:
        self.tests.append(text)
        return "recorded"

    def keys(self) -> list[str]:
        return [item.dedup_key for item in self.sent]
