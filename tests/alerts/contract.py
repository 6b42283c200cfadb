"""What every ``Sink`` promises, written once: subclass ``SinkContract`` in the sink's test module and supply only
its fixture.

The promise (``alerts.sink``): a ``name`` and whether follow-ups thread under their card; ``deliver`` answers a
``Receipt`` for every kind of alert (a card, a follow-up without a thread to join, an operator alert) or raises
``DeliveryFailed``/``DeliveryRejected``; ``send_test`` answers one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts.sink import Outgoing, Receipt, Sink
from monitor.models import AlertStage
from monitor.outbox import AnyAlert, OperatorAlert
from tests.fakes.alert_samples import detected, follow_up

RAISED_AT = datetime(2019, 10, 7, 21, 0, tzinfo=UTC)


def outgoing(alert: AnyAlert, sink: str) -> Outgoing:
    return Outgoing(
        delivery_id=7,
        alert_id=7,
        dedup_key=alert.dedup_key,
        sink=sink,
        alert=alert,
        attempt=1,
        maybe_delivered=False,
        created_at=datetime.now(UTC),
    )


class Checkpoints(list[dict[str, Any]]):
    def __call__(self, done: Mapping[str, Any]) -> None:
        self.append(dict(done))


ALERTS: dict[str, AnyAlert] = {
    "detected": detected(7),
    "follow-up": follow_up(7, AlertStage.DAY1),
    "operator": OperatorAlert(key="dead:slack:2019100721", summary="alerts to slack are failing", raised_at=RAISED_AT),
}


class SinkContract:
    """Subclass as ``TestXxxSink`` and override the ``sink`` fixture."""

    @pytest.fixture
    def sink(self) -> Sink:
        raise NotImplementedError("subclasses supply the sink")

    def test_names_itself_and_says_whether_it_threads(self, sink: Sink) -> None:
        assert isinstance(sink.name, str)
        assert sink.name
        assert isinstance(sink.threads, bool)

    @pytest.mark.parametrize("kind", list(ALERTS))
    def test_delivers_every_kind_of_alert_with_a_receipt(self, sink: Sink, kind: str) -> None:
        receipt = sink.deliver(outgoing(ALERTS[kind], sink.name), Checkpoints())
        assert isinstance(receipt, Receipt)

    def test_a_test_message_answers_one_line(self, sink: Sink) -> None:
        answer = sink.send_test("contract test message")
        assert isinstance(answer, str)
        assert answer
        assert "\n" not in answer
