"""The delivery side of the outbox: claim due deliveries, send them through their sinks, settle the outcome.

Each delivery moves pending → sending → sent, or back to pending with exponential backoff (capped at
``alerts.backoff_max_seconds``, never sooner than a Retry-After), or to dead. Rate limits, server errors and timeouts
never exhaust a delivery: it is given up by age, once its alert has been due ``alerts.max_age_hours``. It is dead at
once when the sink refuses it for good, and after ``alerts.max_attempts`` when the sink crashed on it (a bug). Once
a sink fails a delivery ``alerts.max_attempts`` times, and whenever one dies, the operator hears: an error in the
log and an operator alert on every other configured sink, once per sink and hour (an operator alert that dies
raises nothing more, so a broken channel cannot loop).

Outages. A sink that fails is not tried again in the same pass (nor before its Retry-After), so an outage costs
one request per pass, however long the queue. When it accepts a delivery again after failing (or for the first
time since this worker started), its backlog is brought forward (due now) and its dead deliveries whose alerts are
still within the age limit are queued again, each looked up before any resend: nothing waits for a human.

Crash safety. The claim (status ``sending``, a fresh claim token, ``attempts + 1``) is committed before anything is
sent, and every step a sink completes is committed under that token (``checkpoint``). If the process dies between
the sink's answer and our commit, the row stays ``sending``; once ``alerts.claim_timeout_seconds`` have passed any
worker re-claims it as a possibly-delivered attempt (at once when the claim's owner, recorded with it, is provably
dead: a killed process of this host, as ``monitor.db.leases`` decides for leases, so a restart resends at once), and
the sink looks for the earlier copy (Slack: message metadata carrying the dedup key) before sending again. Every write
is a compare-and-set on the claim token, so two workers never both settle a row. Follow-ups for threading sinks wait
until their root message has been delivered, and on every sink nothing about an event (an update card, a reconcile
reply, a follow-up) goes out while a card of that event enqueued before it is still undelivered there.
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
from monitor.db import leases
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
MAX_REDRIVES = 3  # a dead delivery re-queued by a sink's recovery this often is left to `monitor alerts retry`


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
    due_at: datetime


class DeliveryWorker:
    """Sends due deliveries; ``run_once`` is what the scheduled job (and ``monitor alerts deliver``) calls."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sinks: Mapping[str, Sink],
        *,
        settings: Settings,
        clock: Clock,
        owner: str | None = None,
    ) -> None:
        """``owner`` is recorded with each claim (by default this process's owner id, shared by its workers)."""
        self.sessions = sessions
        self.sinks = dict(sinks)
        self.settings = settings
        self.clock = clock
        self._resting: dict[str, datetime] = {}  # sink -> not before (its Retry-After)
        self._recovering: set[str] = set(self.sinks)  # sinks whose next success re-drives their backlog
        self.owner = owner or leases.process_owner()

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
            resting = self._resting.get(sink)
            if sink not in self.sinks or sink in failing or (resting is not None and self.clock.now() < resting):
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
        crashed = and_(
            AlertDelivery.status == AlertStatus.SENDING.value,
            or_(AlertDelivery.claimed_at < stale, AlertDelivery.claim_owner.in_(self._dead_owners())),
        )
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
            is_stale = delivery.status == AlertStatus.SENDING.value and (
                (delivery.claimed_at is not None and delivery.claimed_at < stale)
                or self._owner_dead(delivery.claim_owner)
            )
            previous_owner = delivery.claim_owner
            if not (is_due or is_stale):
                return "lost", False
            sink = self.sinks[delivery.sink]
            root_state, root = self._root(session, alert_row, delivery.sink)
            if self._earlier_card_pending(session, alert_row, delivery.sink):
                root_state = "wait_any_sink"
            if root_state == "wait_any_sink" or (root_state == "wait" and sink.threads):
                log.info("alert_waiting_for_root", delivery_id=delivery_id, dedup_key=alert_row.dedup_key)
                return "waiting", False
            claim = self._claim(session, delivery, recovered=is_stale, now=now, due_at=alert_row.due_at)
            if claim is None:
                return "lost", False
            maybe_delivered = delivery.attempts > 1 or bool(delivery.receipt.get("maybe_delivered"))
            snapshot = (alert_row.id, alert_row.dedup_key, alert_row.payload, alert_row.created_at)
            routing, progress = Routing.from_json(delivery.routing), dict(delivery.receipt)
        if claim.recovered:
            log.warning(
                "alert_claim_recovered",
                delivery_id=delivery_id,
                sink=claim.sink,
                dedup_key=snapshot[1],
                previous_owner=previous_owner,
                owner_dead=self._owner_dead(previous_owner),
            )
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
            outcome = self._settle_failure(claim, key, failure, now=self.clock.now(), counted=True)
            return outcome, claim.recovered
        return self._settle_success(claim, item, receipt), claim.recovered

    def _claim(
        self, session: Session, delivery: AlertDelivery, *, recovered: bool, now: datetime, due_at: datetime
    ) -> _Claim | None:
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
                claim_owner=self.owner,
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
        return _Claim(delivery.id, token, int(attempts), delivery.sink, recovered, due_at)

    def _owner_dead(self, owner: str | None) -> bool:
        return owner is not None and leases.owner_is_dead(owner, self.owner)

    def _dead_owners(self) -> list[str]:
        """Owners of claims still ``sending`` that are provably dead (a killed predecessor on this host): their
        claims are taken over at once, not after ``alerts.claim_timeout_seconds``. A claim by an owner we cannot
        prove dead (another host, a live process) still waits out the timeout."""
        query = (
            select(AlertDelivery.claim_owner)
            .where(AlertDelivery.status == AlertStatus.SENDING.value, AlertDelivery.claim_owner.is_not(None))
            .distinct()
        )
        with self.sessions() as session:
            owners = [str(owner) for owner in session.scalars(query)]
        return [owner for owner in owners if self._owner_dead(owner)]

    def _earlier_card_pending(self, session: Session, alert_row: AlertRow, sink: str) -> bool:
        """Whether a card of the same event enqueued before this alert is still undelivered on ``sink``. Everything
        about an event (an update card, the reconcile reply, a follow-up) reaches every sink after the cards before
        it, so a card backing off after a failure never arrives after its own update; a card that died is no
        longer waited for."""
        if alert_row.event_id is None:
            return False
        earlier = (
            select(AlertDelivery.id)
            .join(AlertRow, AlertRow.id == AlertDelivery.alert_id)
            .where(
                AlertRow.event_id == alert_row.event_id,
                AlertRow.stage == AlertStage.DETECTED.value,
                AlertRow.id < alert_row.id,
                AlertDelivery.sink == sink,
                AlertDelivery.status.in_([AlertStatus.PENDING.value, AlertStatus.SENDING.value]),
            )
            .limit(1)
        )
        return session.execute(earlier).first() is not None

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
        self._resting.pop(claim.sink, None)
        if claim.sink in self._recovering:
            self._recovering.discard(claim.sink)
            self._redrive(claim.sink, now=self.clock.now())
        if isinstance(item.alert, DetectedAlert):
            latency = (self.clock.now() - (item.alert.filed_at or item.alert.announced_at)).total_seconds()
            if latency >= 0:
                metrics.detection_latency.labels(claim.sink).observe(latency)
        log.info("alert_sent", delivery_id=claim.delivery_id, sink=claim.sink, dedup_key=key, attempt=claim.attempts)
        return "sent"

    def _redrive(self, sink: str, *, now: datetime) -> None:
        """The sink accepts deliveries again: its backlog is due now, and its dead deliveries within the age limit
        are queued again (looked up before any resend), each at most ``MAX_REDRIVES`` times."""
        young = AlertDelivery.alert_id.in_(
            select(AlertRow.id).where(AlertRow.due_at > now - timedelta(hours=self.settings.alerts.max_age_hours))
        )
        with self.sessions.begin() as session:
            backlog = session.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.sink == sink,
                    AlertDelivery.status == AlertStatus.PENDING.value,
                    AlertDelivery.next_attempt_at > now,
                    AlertDelivery.attempts > 0,
                )
                .values(next_attempt_at=now)
                .returning(AlertDelivery.id)
                .execution_options(synchronize_session=False)
            ).all()
            dead = session.scalars(
                select(AlertDelivery).where(
                    AlertDelivery.sink == sink, AlertDelivery.status == AlertStatus.DEAD.value, young
                )
            ).all()
            redriven: list[int] = []
            for delivery in dead:
                receipt = dict(delivery.receipt)
                if int(receipt.get("redrives") or 0) >= MAX_REDRIVES:
                    continue
                receipt["redrives"] = int(receipt.get("redrives") or 0) + 1
                if delivery.attempts > 0:
                    receipt["maybe_delivered"] = True  # an earlier attempt may have landed: look before resending
                delivery.receipt = receipt
                delivery.status = AlertStatus.PENDING.value
                delivery.attempts = 0
                delivery.next_attempt_at = now
                redriven.append(delivery.id)
        if backlog or redriven:
            log.info("alert_sink_recovered", sink=sink, backlog=len(backlog), redriven=len(redriven))

    def _settle_failure(
        self, claim: _Claim, key: str, error: SinkError, *, now: datetime, counted: bool = False
    ) -> str:
        """Back to pending with backoff, or dead: at once if refused, by count if the sink crashed, else by age."""
        settings = self.settings.alerts
        too_old = now - claim.due_at >= timedelta(hours=settings.max_age_hours)
        if isinstance(error, DeliveryRejected):
            dead, reason = True, "refused"
        elif counted and claim.attempts >= settings.max_attempts:
            dead, reason = True, f"failed {claim.attempts} times"
        else:
            dead, reason = too_old, f"still failing {settings.max_age_hours:g} h after it was due"
        delay = min(settings.backoff_base_seconds * 2 ** min(claim.attempts - 1, 32), settings.backoff_max_seconds)
        retry_after = error.retry_after if isinstance(error, DeliveryFailed) else None
        if retry_after is not None:
            delay = max(delay, retry_after)
            self._resting[claim.sink] = now + timedelta(seconds=retry_after)  # the whole sink, not just this row
        self._recovering.add(claim.sink)
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
                self._raise_operator_alert(session, claim, key, error, now=now, dead=reason)
            elif claim.attempts == settings.max_attempts:
                self._raise_operator_alert(session, claim, key, error, now=now, dead=None)
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
            reason=reason if dead else None,
        )
        return outcome

    def _raise_operator_alert(
        self, session: Session, claim: _Claim, key: str, error: SinkError, *, now: datetime, dead: str | None
    ) -> None:
        """Tell the operator on every other configured sink, and in the log as an error (which is all there is
        when the failing sink is the only one)."""
        if key.startswith("operator:"):
            log.error("operator_alert_undeliverable", sink=claim.sink, dedup_key=key, error=str(error))
            return
        targets = [s for s in configured_sinks(self.settings) if s != claim.sink]
        if dead is not None:
            kind, summary = "dead", f"an alert to {claim.sink} was given up"
            detail = (
                f"Alert {key} is dead on {claim.sink} ({dead}, {claim.attempts} attempt(s)): {error}. It is queued "
                f"again when {claim.sink} next accepts an alert, while it is younger than "
                f"{self.settings.alerts.max_age_hours:g} h; see `monitor alerts list --status dead`."
            )
        else:
            kind, summary = "failing", f"alerts to {claim.sink} are failing"
            detail = (
                f"Alert {key} has failed {claim.attempts} attempt(s) on {claim.sink}: {error}. It is retried until "
                f"{self.settings.alerts.max_age_hours:g} h after it was due; later failures on {claim.sink} this hour "
                "are not announced again."
            )
        log.error(
            "operator_alert",
            kind=kind,
            sink=claim.sink,
            dedup_key=key,
            summary=summary,
            detail=detail,
            also_sent_to=",".join(targets) or None,
        )
        if not targets:
            return
        alert = OperatorAlert(
            key=f"{kind}:{claim.sink}:{now:%Y%m%dT%H}",
            summary=summary,
            detail=detail,
            failed_sink=claim.sink,
            failed_delivery_id=claim.delivery_id,
            failed_dedup_key=key,
            raised_at=now,
        )
        enqueue(session, alert, settings=self.settings, now=now, sinks=targets)
