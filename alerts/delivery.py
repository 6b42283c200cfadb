"""The delivery side of the outbox: claim due deliveries, send them through their sinks, settle the outcome.

Each delivery moves pending → sending → sent, or back to pending with exponential backoff, or to dead after
``alerts.max_attempts`` (or at once when the sink refuses it for good), which raises one operator alert per sink
and hour on the other sinks (an operator alert that dies raises nothing more, so a broken channel cannot loop).

Crash safety. The claim (status ``sending``, a fresh claim token, ``attempts + 1``) is committed before anything is
sent, and every step a sink completes is committed under that token (``checkpoint``). If the process dies between
the sink's answer and our commit, the row stays ``sending``; once ``alerts.claim_timeout_seconds`` have passed any
worker re-claims it as a possibly-delivered attempt, and the sink looks for the earlier copy (Slack: message
metadata carrying the dedup key) before sending again. Every write is a compare-and-set on the claim token, so two
workers never both settle a row. Follow-ups for threading sinks wait until their root message has been delivered.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.sink import Outgoing, Receipt, RootMessage, Sink
from alerts.text import clip
from monitor import metrics
from monitor.clock import Clock
from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.errors import ClaimLost, DeliveryFailed, DeliveryRejected
from monitor.logs import get_logger
from monitor.models import AlertStage, AlertStatus
from monitor.outbox import (
    THREAD_STAGES,
    DetectedAlert,
    OperatorAlert,
    Routing,
    apply_routing,
    configured_sinks,
    enqueue,
    parse_alert,
)

log = get_logger(__name__)

_THREADED = {stage.value for stage in THREAD_STAGES}
SinkError = DeliveryFailed | DeliveryRejected


@dataclass
class DeliveryReport:
    """What one pass did; the job logs it and tests assert on it."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    waiting: int = 0  # follow-ups whose root message is not delivered yet
    recovered: int = 0  # stale claims of a crashed worker taken over
    skipped: int = 0  # sink not configured, or already failing in this pass
    lost: int = 0  # claims another worker took over meanwhile
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    token: str
    attempts: int
    sink: str
    recovered: bool


class DeliveryWorker:
    """Sends due deliveries; ``run_once`` is what the scheduled job (and ``monitor alerts deliver``) calls."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sinks: Mapping[str, Sink],
        *,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.sinks = dict(sinks)
        self.settings = settings
        self.clock = clock

    def run_once(self, *, limit: int | None = None) -> DeliveryReport:
        report = DeliveryReport()
        failing: set[str] = set()
        batch = self._due(self.clock.now(), limit or self.settings.alerts.batch_size)
        waiting = self._pass(batch, report, failing)
        if waiting and report.sent:  # their root may have gone out later in this same pass
            waiting = self._pass(waiting, report, failing)
        report.waiting = len(waiting)
        self._gauge_pending()
        if report.sent or report.retrying or report.dead:
            log.info("alert_pass_done", **{k: v for k, v in vars(report).items() if k != "errors"})
        return report

    def _pass(self, batch: list[tuple[int, str]], report: DeliveryReport, failing: set[str]) -> list[tuple[int, str]]:
        """Process ``batch`` in order; returns the follow-ups still waiting for their root message."""
        waiting: list[tuple[int, str]] = []
        for delivery_id, sink in batch:
            if sink not in self.sinks or sink in failing:
                report.skipped += 1
                continue
            outcome, recovered = self._process(delivery_id)
            report.recovered += int(recovered)
            if outcome == "sent":
                report.sent += 1
            elif outcome == "retrying":
                report.retrying += 1
                failing.add(sink)  # a sink that just failed is not hammered again in this pass
            elif outcome == "dead":
                report.dead += 1
            elif outcome == "waiting":
                waiting.append((delivery_id, sink))
            elif outcome == "lost":
                report.lost += 1
        return waiting

    def _gauge_pending(self) -> None:
        query = (
            select(AlertDelivery.sink, func.count())
            .where(AlertDelivery.status.in_([AlertStatus.PENDING.value, AlertStatus.SENDING.value]))
            .group_by(AlertDelivery.sink)
        )
        with self.sessions() as session:
            counts = {str(sink): int(n) for sink, n in session.execute(query)}
        for sink in {*self.sinks, *counts}:
            metrics.outbox_pending.labels(sink).set(counts.get(sink, 0))

    # --- selection and claiming ----------------------------------------------------------------------------------

    def _due(self, now: datetime, limit: int) -> list[tuple[int, str]]:
        stale = now - timedelta(seconds=self.settings.alerts.claim_timeout_seconds)
        pending = and_(AlertDelivery.status == AlertStatus.PENDING.value, AlertDelivery.next_attempt_at <= now)
        crashed = and_(AlertDelivery.status == AlertStatus.SENDING.value, AlertDelivery.claimed_at < stale)
        query = (
            select(AlertDelivery.id, AlertDelivery.sink)
            .join(AlertRow, AlertRow.id == AlertDelivery.alert_id)
            .where(AlertRow.due_at <= now, or_(pending, crashed))
            .order_by(AlertRow.due_at, AlertRow.id, AlertDelivery.id)
            .limit(limit)
        )
        with self.sessions() as session:
            return [(int(row.id), str(row.sink)) for row in session.execute(query)]

    def _process(self, delivery_id: int) -> tuple[str, bool]:
        """Claim, send and settle one delivery; returns (outcome, whether a crashed claim was taken over)."""
        now = self.clock.now()
        stale = now - timedelta(seconds=self.settings.alerts.claim_timeout_seconds)
        with self.sessions.begin() as session:
            delivery = session.get(AlertDelivery, delivery_id)
            if delivery is None:
                return "lost", False
            alert_row = session.get(AlertRow, delivery.alert_id)
            assert alert_row is not None
            is_due = delivery.status == AlertStatus.PENDING.value and delivery.next_attempt_at <= now
            is_stale = (
                delivery.status == AlertStatus.SENDING.value
                and delivery.claimed_at is not None
                and delivery.claimed_at < stale
            )
            if not (is_due or is_stale):
                return "lost", False
            sink = self.sinks[delivery.sink]
            root_state, root = self._root(session, alert_row, delivery.sink)
            if root_state == "wait" and sink.threads:
                log.info("alert_waiting_for_root", delivery_id=delivery_id, dedup_key=alert_row.dedup_key)
                return "waiting", False
            claim = self._claim(session, delivery, recovered=is_stale, now=now)
            if claim is None:
                return "lost", False
            maybe_delivered = delivery.attempts > 1 or bool(delivery.receipt.get("maybe_delivered"))
            snapshot = (alert_row.id, alert_row.dedup_key, alert_row.payload, alert_row.created_at)
            routing, progress = Routing.from_json(delivery.routing), dict(delivery.receipt)
        if claim.recovered:
            log.warning("alert_claim_recovered", delivery_id=delivery_id, sink=claim.sink, dedup_key=snapshot[1])
        alert_id, key, payload, created_at = snapshot
        try:
            alert = apply_routing(parse_alert(payload), routing)
        except ValidationError as exc:
            error = DeliveryRejected(
                f"stored alert {key} no longer parses: {exc.error_count()} error(s)", sink=claim.sink
            )
            return self._settle_failure(claim, key, error, now=now), claim.recovered
        item = Outgoing(
            delivery_id=delivery_id,
            alert_id=alert_id,
            dedup_key=key,
            sink=claim.sink,
            alert=alert,
            attempt=claim.attempts,
            maybe_delivered=maybe_delivered,
            created_at=created_at,
            progress=progress,
            root=root,
        )
        try:
            receipt = sink.deliver(item, lambda done: self._checkpoint(claim, done))
        except ClaimLost:
            log.warning("alert_claim_lost", delivery_id=delivery_id, dedup_key=key)
            return "lost", claim.recovered
        except (DeliveryFailed, DeliveryRejected) as exc:
            return self._settle_failure(claim, key, exc, now=self.clock.now()), claim.recovered
        except Exception as exc:  # a bug in a renderer or sink: retried, then dead, never fatal to the worker
            log.exception("alert_sink_crashed", delivery_id=delivery_id, sink=claim.sink, dedup_key=key)
            failure = DeliveryFailed(f"{claim.sink} sink error: {type(exc).__name__}: {exc}", sink=claim.sink)
            return self._settle_failure(claim, key, failure, now=self.clock.now()), claim.recovered
        return self._settle_success(claim, item, receipt), claim.recovered

    def _claim(self, session: Session, delivery: AlertDelivery, *, recovered: bool, now: datetime) -> _Claim | None:
        token = uuid.uuid4().hex
        same_token = (
            AlertDelivery.claim_token.is_(None)
            if delivery.claim_token is None
            else AlertDelivery.claim_token == delivery.claim_token
        )
        statement = (
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery.id, AlertDelivery.status == delivery.status, same_token)
            .values(
                status=AlertStatus.SENDING.value,
                claim_token=token,
                claimed_at=now,
                attempts=AlertDelivery.attempts + 1,
            )
            .returning(AlertDelivery.attempts)
            .execution_options(synchronize_session=False)
        )
        attempts = session.execute(statement).scalar_one_or_none()
        if attempts is None:
            return None
        delivery.attempts = int(attempts)
        return _Claim(delivery.id, token, int(attempts), delivery.sink, recovered)

    def _root(self, session: Session, alert_row: AlertRow, sink: str) -> tuple[str, RootMessage | None]:
        """("wait", None) while the follow-up's root is undelivered on ``sink``; else ("ok", root or None)."""
        if alert_row.stage not in _THREADED or alert_row.event_id is None:
            return "ok", None
        candidates = session.scalars(
            select(AlertRow)
            .where(AlertRow.event_id == alert_row.event_id, AlertRow.stage == AlertStage.DETECTED.value)
            .order_by(AlertRow.id)
        ).all()
        if not candidates:
            return "ok", None
        ranked = sorted(
            candidates,
            key=lambda r: (r.symbol != alert_row.symbol, r.symbol is not None, r.group_key != alert_row.group_key),
        )
        root_row = ranked[0]
        delivery = session.scalars(
            select(AlertDelivery).where(AlertDelivery.alert_id == root_row.id, AlertDelivery.sink == sink)
        ).first()
        if delivery is None or delivery.status == AlertStatus.DEAD.value:
            return "ok", None  # no thread on this sink: the follow-up stands on its own
        if delivery.status != AlertStatus.SENT.value:
            return "wait", None
        root_alert: DetectedAlert | None = None
        try:
            parsed = apply_routing(parse_alert(root_row.payload), Routing.from_json(delivery.routing))
            root_alert = parsed if isinstance(parsed, DetectedAlert) else None
        except ValidationError:  # the card cannot be re-rendered, but its thread is still the place to reply
            log.warning("alert_root_unreadable", dedup_key=root_row.dedup_key)
        return "ok", RootMessage(root_row.dedup_key, root_alert, delivery.channel, delivery.external_id)

    # --- settling ------------------------------------------------------------------------------------------------

    def _mine(self, claim: _Claim) -> Any:
        return and_(AlertDelivery.id == claim.delivery_id, AlertDelivery.claim_token == claim.token)

    def _checkpoint(self, claim: _Claim, done: Mapping[str, Any]) -> None:
        with self.sessions.begin() as session:
            statement = update(AlertDelivery).where(self._mine(claim)).values(receipt=dict(done))
            result = session.execute(statement.returning(AlertDelivery.id)).first()
        if result is None:
            raise ClaimLost(f"delivery {claim.delivery_id} was taken over by another worker")

    def _settle_success(self, claim: _Claim, item: Outgoing, receipt: Receipt) -> str:
        key, stage = item.dedup_key, item.alert.stage.value
        with self.sessions.begin() as session:
            statement = (
                update(AlertDelivery)
                .where(self._mine(claim))
                .values(
                    status=AlertStatus.SENT.value,
                    sent_at=self.clock.now(),
                    external_id=receipt.external_id,
                    channel=receipt.channel,
                    thread_ref=receipt.thread_ref,
                    receipt=dict(receipt.detail),
                    claim_token=None,
                    last_error=None,
                )
                .returning(AlertDelivery.id)
            )
            done = session.execute(statement).first()
        if done is None:
            log.warning("alert_claim_lost", delivery_id=claim.delivery_id, dedup_key=key)
            return "lost"
        metrics.alerts_sent.labels(claim.sink, stage).inc()
        if isinstance(item.alert, DetectedAlert):
            latency = (self.clock.now() - (item.alert.filed_at or item.alert.announced_at)).total_seconds()
            if latency >= 0:
                metrics.detection_latency.labels(claim.sink).observe(latency)
        log.info("alert_sent", delivery_id=claim.delivery_id, sink=claim.sink, dedup_key=key, attempt=claim.attempts)
        return "sent"

    def _settle_failure(self, claim: _Claim, key: str, error: SinkError, *, now: datetime) -> str:
        settings = self.settings.alerts
        permanent = isinstance(error, DeliveryRejected)
        dead = permanent or claim.attempts >= settings.max_attempts
        delay = min(settings.backoff_base_seconds * 2 ** (claim.attempts - 1), settings.backoff_max_seconds)
        if isinstance(error, DeliveryFailed) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        with self.sessions.begin() as session:
            statement = (
                update(AlertDelivery)
                .where(self._mine(claim))
                .values(
                    status=AlertStatus.DEAD.value if dead else AlertStatus.PENDING.value,
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=clip(str(error), 1000),
                    claim_token=None,
                )
                .returning(AlertDelivery.id)
            )
            if session.execute(statement).first() is None:
                return "lost"
            if dead:
                self._raise_operator_alert(session, claim, key, error, now=now)
        outcome = "dead" if dead else "retrying"
        (metrics.alerts_dead if dead else metrics.alerts_failed).labels(claim.sink).inc()
        event = "alert_dead" if dead else "alert_retry"
        (log.error if dead else log.warning)(
            event,
            delivery_id=claim.delivery_id,
            sink=claim.sink,
            dedup_key=key,
            attempt=claim.attempts,
            error=str(error),
            retry_in_seconds=None if dead else delay,
        )
        return outcome

    def _raise_operator_alert(
        self, session: Session, claim: _Claim, key: str, error: SinkError, *, now: datetime
    ) -> None:
        if key.startswith("operator:"):
            log.error("operator_alert_undeliverable", sink=claim.sink, dedup_key=key, error=str(error))
            return
        targets = [s for s in configured_sinks(self.settings) if s != claim.sink]
        if not targets and claim.sink != "console":
            targets = ["console"]
        alert = OperatorAlert(
            key=f"dead:{claim.sink}:{now:%Y%m%dT%H}",
            summary=f"alerts to {claim.sink} are failing",
            detail=(
                f"Alert {key} could not be delivered to {claim.sink} after {claim.attempts} attempt(s): {error}. "
                f"Later failures on {claim.sink} this hour are not announced again: "
                "see `monitor alerts list --status dead`."
            ),
            failed_sink=claim.sink,
            failed_delivery_id=claim.delivery_id,
            failed_dedup_key=key,
            raised_at=now,
        )
        enqueue(session, alert, settings=self.settings, now=now, sinks=targets)
