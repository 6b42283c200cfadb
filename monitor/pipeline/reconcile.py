"""Reconcile on publication: what the published rule changed from the card sent at public-inspection time.

The card a trader acted on was built from the PI text (its table parsed from plain text or a PDF, names spotted).
When the Federal Register publishes the XML, the rule is parsed again from the authoritative source. Rather than a
second card, the event gets one reply in the card's thread saying what changed (entities or securities added,
removed, revised) or that the published text confirms the filing, and the card itself is replaced with the
published facts.

Decide, then act: ``needs_reconcile`` and ``reconcile`` are pure functions of the stored card payloads and the
published card; the pipeline enqueues the answer and replaces the root payload in the facts' transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitor.feeds.countries import country_iso
from monitor.models import AlertStage, ParseStatus
from monitor.outbox import (
    DetectedAlert,
    EntityChange,
    EntityLine,
    MatchedSecurity,
    ReconcileAlert,
    SecurityChange,
    dedup_key,
)


def root_key(event_id: int) -> str:
    """The dedup key of the event's card (the thread root a reconcile reply updates)."""
    return dedup_key(event_id, AlertStage.DETECTED)


def needs_reconcile(card: DetectedAlert, earlier: Sequence[Mapping[str, Any]]) -> bool:
    """True when ``card`` was built from the published rule and the event's card from the PI text."""
    root = _root(card.event_id, earlier)
    return (
        card.based_on == "published"
        and card.parse_status is ParseStatus.PARSED
        and root is not None
        and root.get("based_on") == "public_inspection"
    )


def reconcile(card: DetectedAlert, earlier: Sequence[Mapping[str, Any]]) -> ReconcileAlert:
    """The published ``card`` compared with what the ``earlier`` cards (root first, then updates) told."""
    told_entities: tuple[EntityLine, ...] = ()
    told_securities: dict[str, MatchedSecurity] = {}
    for payload in earlier:  # the root, then any update card: a later one supersedes what it repeats
        previous = DetectedAlert.model_validate(payload)
        if previous.entities:
            told_entities = previous.entities
        told_securities.update((s.symbol, s) for s in previous.securities)
    before = {_entity_key(e): e for e in told_entities}
    after = {_entity_key(e): e for e in card.entities}
    now = {s.symbol: s for s in card.securities}
    return ReconcileAlert(
        event_id=card.event_id,
        document_number=card.document_number,
        list_name=card.list_name,
        title=card.title,
        publication_date=card.publication_date,
        card=card,
        entities_added=tuple(e for key, e in after.items() if key not in before),
        entities_removed=tuple(e for key, e in before.items() if key not in after),
        entities_revised=tuple(
            EntityChange(name=e.name, before=before[key], after=e)
            for key, e in after.items()
            if key in before and _revised(before[key], e)
        ),
        securities_added=tuple(s for symbol, s in now.items() if symbol not in told_securities),
        securities_removed=tuple(s for symbol, s in told_securities.items() if symbol not in now),
        securities_revised=tuple(
            SecurityChange(symbol=symbol, before=told_securities[symbol], after=s)
            for symbol, s in now.items()
            if symbol in told_securities and _link(told_securities[symbol]) != _link(s)
        ),
        federal_register_url=card.federal_register_url,
    )


def _root(event_id: int, earlier: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The event's card among the stored payloads: the one for the whole rule (no symbol, group "all")."""
    for payload in earlier:
        if payload.get("event_id") == event_id and payload.get("group", "all") == "all" and not payload.get("symbol"):
            return payload
    return None


def _entity_key(entity: EntityLine) -> str:
    """Names as a reader compares them: case, spacing and punctuation at the ends do not make a new entity."""
    return " ".join(entity.name.casefold().split()).strip(" .,;")


def _entity_facts(entity: EntityLine) -> tuple[Any, ...]:
    """What makes an entry revised: its action, its country (as an ISO code, so "China" is "CHINA, PEOPLE'S
    REPUBLIC OF"), and its aliases. Aliases count only when listed: a PI sentence that names the entity without
    its aliases is our text's limit, not a change to the rule."""
    country = entity.country or ""
    return (entity.action, country_iso(country) or country.casefold(), _aliases(entity))


def _aliases(entity: EntityLine) -> frozenset[str]:
    return frozenset(" ".join(a.casefold().split()).strip(" .,;") for a in entity.aliases)


def _revised(before: EntityLine, after: EntityLine) -> bool:
    was, now = _entity_facts(before), _entity_facts(after)
    if not before.aliases or not after.aliases:
        was, now = was[:2], now[:2]
    return was != now


def _link(security: MatchedSecurity) -> tuple[Any, ...]:
    return (security.relation, security.confirmed, _entity_key(EntityLine(name=security.entity_name)))
