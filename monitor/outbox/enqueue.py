"""``enqueue``: an alert and one routed delivery per sink, added to the caller's session (never committed here).

The pipeline writes an alert in the same transaction as the facts it reports (a document and its matches, a study
update), so nothing can be lost between "we know" and "we will tell". The delivery worker (``alerts.delivery``)
sends the rows later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.clock import ensure_utc
from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.db.upsert import upsert
from monitor.logs import get_logger
from monitor.models import AlertStatus
from monitor.outbox.messages import AnyAlert, OperatorAlert
from monitor.outbox.routing import configured_sinks, route

log = get_logger(__name__)


@dataclass(frozen=True)
class Enqueued:
    alert_id: int
    dedup_key: str
    created: bool  # False: the alert was already in the outbox and nothing was written
    sinks: tuple[str, ...]  # the deliveries this call created


def enqueue(
    session: Session,
    alert: AnyAlert,
    *,
    settings: Settings,
    now: datetime,
    due_at: datetime | None = None,
    sinks: Sequence[str] | None = None,
) -> Enqueued:
    """Add ``alert`` and one delivery per routed sink to ``session``; the caller's transaction commits.

    Idempotent on the dedup key: enqueueing the same alert again writes nothing, even if settings changed.
    ``sinks`` overrides the configured sinks (operator alerts use it to avoid the sink that failed).
    """
    now = ensure_utc(now, name="now")
    due = ensure_utc(due_at, name="due_at") if due_at is not None else now
    key = alert.dedup_key
    row = {
        "dedup_key": key,
        "event_id": None if isinstance(alert, OperatorAlert) else alert.event_id,
        "symbol": None if isinstance(alert, OperatorAlert) else alert.symbol,
        "group_key": None if isinstance(alert, OperatorAlert) else alert.group,
        "stage": alert.stage.value,
        "payload": alert.model_dump(mode="json"),
        "due_at": due,
    }
    created = upsert(session, AlertRow, [row], key=["dedup_key"], do_nothing=True) == 1
    alert_id = session.execute(select(AlertRow.id).where(AlertRow.dedup_key == key)).scalar_one()
    if not created:
        log.debug("alert_already_queued", dedup_key=key, alert_id=alert_id)
        return Enqueued(alert_id, key, created=False, sinks=())
    targets = tuple(sinks) if sinks is not None else configured_sinks(settings)
    deliveries: list[dict[str, Any]] = []
    for sink in targets:
        decision = route(alert, sink, settings.alerts)
        if decision is None:
            continue
        deliveries.append(
            {
                "alert_id": alert_id,
                "sink": sink,
                "status": AlertStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": due,
                "routing": decision.to_json(),
                "receipt": {},
            }
        )
    if deliveries:
        upsert(session, AlertDelivery, deliveries, key=["alert_id", "sink"], do_nothing=True)
    routed = tuple(d["sink"] for d in deliveries)
    log.info("alert_queued", dedup_key=key, alert_id=alert_id, stage=alert.stage.value, sinks=list(routed))
    return Enqueued(alert_id, key, created=True, sinks=routed)
