"""Every sink against the one ``SinkContract``: each class supplies only its sink.

The console writes to a buffer; the webhook posts through ``httpx.MockTransport`` answering 204; Slack talks to
the local fake Web API (``tests/fakes/slack_server``); the recording fake is what the outbox tests use.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from rich.console import Console

from alerts.console import ConsoleSink
from alerts.sink import Sink
from alerts.webhook import WebhookSink
from monitor.config import Settings
from tests.alerts.contract import SinkContract
from tests.alerts.test_slack import make_sink
from tests.fakes.sinks import FakeSink
from tests.fakes.slack_server import FakeSlack


class TestConsoleSink(SinkContract):
    @pytest.fixture
    def sink(self) -> Sink:
        return ConsoleSink(Console(file=io.StringIO(), width=120, color_system=None))


class TestWebhookSink(SinkContract):
    @pytest.fixture
    def sink(self) -> Sink:
        settings = Settings(webhook={"url": "https://hooks.example.test/monitor", "secret": SecretStr("whsec-1")})
        return WebhookSink.from_settings(settings, transport=httpx.MockTransport(lambda request: httpx.Response(204)))


@pytest.mark.integration  # a local HTTP server
class TestSlackSink(SinkContract):
    @pytest.fixture
    def sink(self) -> Iterator[Sink]:
        with FakeSlack() as slack:
            yield make_sink(slack)


class TestFakeSink(SinkContract):
    @pytest.fixture
    def sink(self) -> Sink:
        return FakeSink()
