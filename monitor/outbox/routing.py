"""Routing, decided when an alert is enqueued: which sinks get an alert and which of its securities each gets.

Each delivery row records which securities its sink gets (``AlertDelivery.routing``), so what will be sent is fixed
in the same transaction as the facts, a retry after a settings change sends what was decided, and
``monitor alerts list`` can show it. Routes and mutes therefore apply to alerts enqueued after a change (follow-ups
are enqueued at their own time, so muting a noisy symbol silences its next follow-ups); rows already queued are
delivered as decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config import AlertRoute, AlertSettings, Settings
from monitor.models import Relation
from monitor.outbox.messages import (
    AnyAlert,
    DetectedAlert,
    EntityListReply,
    FollowUpAlert,
    OperatorAlert,
    ReconcileAlert,
)


@dataclass(frozen=True)
class Routing:
    """What one sink gets of an alert: which securities (None: all) and which entity lines are hidden."""

    symbols: tuple[str, ...] | None = None
    hidden_entities: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "symbols": None if self.symbols is None else list(self.symbols),
            "hidden_entities": list(self.hidden_entities),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Routing:
        value = value or {}
        symbols = value.get("symbols")
        return cls(
            symbols=None if symbols is None else tuple(symbols),
            hidden_entities=tuple(value.get("hidden_entities") or ()),
        )


def configured_sinks(settings: Settings) -> tuple[str, ...]:
    """Slack when a bot token is set, the webhook when a URL is, the console otherwise (or when routed to)."""
    sinks: list[str] = []
    if settings.slack.enabled:
        sinks.append("slack")
    if settings.webhook.url:
        sinks.append("webhook")
    if not settings.slack.enabled or "console" in settings.alerts.routes:
        sinks.append("console")
    return tuple(sinks)


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


def route(alert: AnyAlert, sink: str, alerts: AlertSettings) -> Routing | None:
    """The part of ``alert`` that ``sink`` should get, or None when the sink's route wants none of it."""
    if isinstance(alert, OperatorAlert):
        return Routing()
    if isinstance(alert, ReconcileAlert):  # the sink shows the card as routed, and what changed about it
        return route(alert.card, sink, alerts)
    rule = alerts.routes.get(sink, AlertRoute())
    muted_symbols = {symbol.upper() for symbol in alerts.mute_symbols}
    muted_entities = {_norm(name) for name in alerts.mute_entities}

    def wanted(symbol: str, relation: Relation, score: float, entity: str) -> bool:
        return (
            symbol.upper() not in muted_symbols
            and (not entity or _norm(entity) not in muted_entities)
            and relation.value in rule.relations
            and score >= rule.min_score
        )

    hidden: tuple[str, ...] = ()
    if isinstance(alert, DetectedAlert | EntityListReply):
        hidden = tuple(
            entity.name
            for entity in alert.entities
            if any(_norm(name) in muted_entities for name in (entity.name, *entity.aliases))
        )
        candidates = [(s.symbol, wanted(s.symbol, s.relation, s.score, s.entity_name)) for s in alert.securities]
        if not alert.securities and alert.entities and len(hidden) == len(alert.entities):
            return None  # a rule about muted entities only
    else:
        candidates = [(s.symbol, wanted(s.symbol, s.relation, s.score, s.entity_name)) for s in alert.securities]
    kept = tuple(symbol for symbol, keep in candidates if keep)
    if candidates and not kept:
        return None
    return Routing(symbols=None if len(kept) == len(candidates) else kept, hidden_entities=hidden)


def apply_routing(alert: AnyAlert, routing: Routing) -> AnyAlert:
    """The alert as one sink sees it: only its securities, muted entity lines removed."""
    if isinstance(alert, OperatorAlert):
        return alert
    if isinstance(alert, ReconcileAlert):
        card = apply_routing(alert.card, routing)
        keep_symbols = {s.symbol for s in card.securities} if isinstance(card, DetectedAlert) else set()
        return alert.model_copy(
            update={
                "card": card,
                "securities_added": tuple(s for s in alert.securities_added if s.symbol in keep_symbols),
                "securities_revised": tuple(s for s in alert.securities_revised if s.symbol in keep_symbols),
            }
        )
    keep = None if routing.symbols is None else set(routing.symbols)
    if isinstance(alert, DetectedAlert | EntityListReply):
        hidden = set(routing.hidden_entities)
        return alert.model_copy(
            update={
                "securities": tuple(s for s in alert.securities if keep is None or s.symbol in keep),
                "entities": tuple(e for e in alert.entities if e.name not in hidden),
            }
        )
    if keep is None:
        return alert
    return alert.model_copy(
        update={
            "securities": tuple(s for s in alert.securities if s.symbol in keep),
            "paths": tuple(p for p in alert.paths if p.label in keep or p.label not in _symbols(alert)),
        }
    )


def _symbols(alert: FollowUpAlert) -> set[str]:
    return {line.symbol for line in alert.securities}
