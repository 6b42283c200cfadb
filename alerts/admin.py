"""Operator views of the outbox: list deliveries, and put a dead one back in the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.clock import ensure_utc
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.errors import InputError
from monitor.logs import get_logger
from monitor.models import AlertStatus

log = get_logger(__name__)


@dataclass(frozen=True)
class DeliveryView:
    id: int
    alert_id: int
    dedup_key: str
    stage: str
    sink: str
    status: str
    attempts: int
    due_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    external_id: str | None
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        """Every field, times in ISO 8601 with their offset (as every ``--json`` prints them)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in fields.items()}


def _view(delivery: AlertDelivery, alert: AlertRow) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        alert_id=alert.id,
        dedup_key=alert.dedup_key,
        stage=alert.stage,
        sink=delivery.sink,
        status=delivery.status,
        attempts=delivery.attempts,
        due_at=alert.due_at,
        next_attempt_at=delivery.next_attempt_at,
        sent_at=delivery.sent_at,
        external_id=delivery.external_id,
        last_error=delivery.last_error,
    )


def list_deliveries(session: Session, *, status: AlertStatus | None = None, limit: int = 50) -> list[DeliveryView]:
    """Newest alerts first, one row per sink."""
    query = select(AlertDelivery, AlertRow).join(AlertRow, AlertRow.id == AlertDelivery.alert_id)
    if status is not None:
        query = query.where(AlertDelivery.status == status.value)
    query = query.order_by(AlertRow.id.desc(), AlertDelivery.id).limit(limit)
    return [_view(delivery, alert) for delivery, alert in session.execute(query)]


def retry_delivery(session: Session, delivery_id: int, *, now: datetime, claim_timeout_seconds: float) -> DeliveryView:
    """Queue a dead (or stuck) delivery again, due now, with a fresh attempt budget. Never one already sent."""
    now = ensure_utc(now, name="now")
    delivery = session.get(AlertDelivery, delivery_id)
    if delivery is None:
        raise InputError(f"no alert delivery with ID {delivery_id}; `monitor alerts list` shows the IDs")
    alert = session.get(AlertRow, delivery.alert_id)
    assert alert is not None
    if delivery.status == AlertStatus.SENT.value:
        when = delivery.sent_at.isoformat() if delivery.sent_at else "earlier"
        raise InputError(
            f"delivery {delivery_id} ({alert.dedup_key}) was accepted by {delivery.sink} at {when}; "
            "it is not sent twice"
        )
    busy_since = now - timedelta(seconds=claim_timeout_seconds)
    if delivery.status == AlertStatus.SENDING.value and delivery.claimed_at and delivery.claimed_at >= busy_since:
        raise InputError(f"delivery {delivery_id} is being sent right now (claimed {delivery.claimed_at.isoformat()})")
    receipt = dict(delivery.receipt)
    if delivery.attempts > 0:
        receipt["maybe_delivered"] = True  # an earlier attempt may have landed: the sink looks before resending
    delivery.status = AlertStatus.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.claim_token = None
    delivery.receipt = receipt
    session.flush()
    log.info("alert_retry_requested", delivery_id=delivery_id, dedup_key=alert.dedup_key, sink=delivery.sink)
    return _view(delivery, alert)
