"""Alerts as typed messages: dedup keys, and every stage back from its stored payload."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.models import AlertStage
from monitor.outbox import (
    OperatorAlert,
    dedup_key,
    parse_alert,
)
from tests.fakes.alert_samples import detected, follow_up
from tests.outbox.samples import NOW


def test_dedup_key_names_event_subject_and_stage() -> None:
    assert dedup_key(7, AlertStage.DETECTED) == "event:7:g:all:detected"
    assert dedup_key(7, "day1", symbol="002415.SZ") == "event:7:s:002415.SZ:day1"
    assert dedup_key(7, AlertStage.DAY5, group="supplier") == "event:7:g:supplier:day5"
    assert detected(7).dedup_key == "event:7:g:all:detected"
    assert follow_up(7, AlertStage.DAY0).dedup_key == "event:7:g:all:day0"
    with pytest.raises(ValueError, match="day9"):
        dedup_key(7, "day9")


@pytest.mark.parametrize("stage", [AlertStage.DAY0, AlertStage.DAY1, AlertStage.DAY5, AlertStage.WINDOW_CLOSED])
def test_every_stage_round_trips_through_its_stored_payload(stage: AlertStage) -> None:
    for alert in (detected(3), follow_up(3, stage)):
        assert parse_alert(alert.model_dump(mode="json")) == alert
    operator = OperatorAlert(key="dead:slack:x", summary="s", raised_at=NOW)
    assert parse_alert(operator.model_dump(mode="json")) == operator


def test_a_payload_of_the_wrong_shape_is_refused() -> None:
    payload = detected(3).model_dump(mode="json")
    payload["stage"] = "day1"  # a follow-up needs car_window; a detected alert's fields are unknown to it
    with pytest.raises(ValidationError):
        parse_alert(payload)
