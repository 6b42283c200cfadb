"""The ``detected`` alert: the first message a trader sees about a rule, written with the event's facts.

One card per event, enqueued when the rule is first processed. When the published rule follows a card built from
the public-inspection text, one reconcile reply says what changed (``monitor.pipeline.reconcile``). Otherwise, if a
later arrival changes what a trader should know (a rule that could not be parsed now can be), an update card
follows; re-processing that changes nothing enqueues nothing.

Decide, then act: ``detected_card`` is a pure function of the event's facts, its lines and the cards already
enqueued for it; the pipeline reads those cards and enqueues what this returns in the facts' transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.models import AnnouncementSource, FeedName, ListingAction, Match, Security
from monitor.outbox import (
    CARD_SECURITIES,
    DetectedAlert,
    EntityLine,
    EntityListReply,
    MatchedSecurity,
    ReconcileAlert,
    TextVersion,
)
from monitor.pipeline.facts import EventFacts
from monitor.pipeline.reconcile import needs_reconcile, reconcile

if TYPE_CHECKING:
    from monitor.prices.quotes import Quote

# Agency slugs as the Federal Register names them, and how a trader knows them.
AGENCY_NAMES = {
    "industry-and-security-bureau": "Bureau of Industry and Security",
    "commerce-department": "Department of Commerce",
}
PUBLIC_INSPECTION_PDF = "https://public-inspection.federalregister.gov/{number}.pdf"


def detected_card(
    *,
    event_id: int,
    announced_at: datetime,
    announced_source: AnnouncementSource,
    facts: EventFacts,
    actions: Sequence[ListingAction],
    best: Mapping[str, Match],
    securities: Mapping[str, Security],
    quotes: Mapping[str, Quote],
    earlier: Sequence[Mapping[str, Any]],
    based_on: TextVersion = "published",
) -> DetectedAlert | ReconcileAlert | None:
    """The event's card; once the card from the PI text is out, the reconcile reply when this arrival is the
    published rule (``based_on``); else an update card when it adds something to the ``earlier`` cards' payloads
    (a confirmed security they did not name, or entities where none were told), else None."""
    lines = tuple(_security_line(best[symbol], securities[symbol], quotes.get(symbol)) for symbol in securities)
    entities = tuple(
        EntityLine(name=a.entity_name, country=a.country, action=a.action, aliases=a.aliases) for a in actions
    )
    card = DetectedAlert(
        event_id=event_id,
        document_number=facts.document_number,
        title=facts.title,
        action=facts.action,
        filed_by=tuple(AGENCY_NAMES.get(slug, slug.replace("-", " ").title()) for slug in facts.agencies),
        filed_at=facts.filed_at,
        filing_type=facts.filing_type,
        announced_at=announced_at,
        announced_source=announced_source,
        publication_date=facts.publication_date,
        effective_on=facts.effective_on,
        entities=entities,
        securities=lines,
        federal_register_url=facts.html_url or f"https://www.federalregister.gov/d/{facts.document_number}",
        public_inspection_pdf_url=_pi_pdf(facts),
        parse_status=facts.parse_status,
        parse_error=facts.parse_error,
        based_on=based_on,
    )
    if earlier and needs_reconcile(card, earlier):
        return reconcile(card, earlier)
    if earlier:
        told_symbols = {line["symbol"] for payload in earlier for line in payload.get("securities", ())}
        told_entities = any(payload.get("entities") for payload in earlier)
        new_symbols = {line.symbol for line in lines if line.confirmed} - told_symbols
        if not new_symbols and (told_entities or not entities):
            return None
        group = f"update-{len(earlier)}"
    else:
        group = "all"
    return card.model_copy(update={"group": group})


def entity_reply(card: DetectedAlert) -> EntityListReply | None:
    """The card's first thread reply: its full entity list and the securities past the card's room, if either.

    Enqueued with the card it belongs to, to the same sinks; its dedup key makes it one per event.
    """
    if not card.entities and len(card.securities) <= CARD_SECURITIES:
        return None
    return EntityListReply(
        event_id=card.event_id,
        document_number=card.document_number,
        list_name=card.list_name,
        title=card.title,
        entities=card.entities,
        securities=card.securities,
        federal_register_url=card.federal_register_url,
    )


def _pi_pdf(facts: EventFacts) -> str | None:
    if facts.public_inspection_pdf_url:
        return facts.public_inspection_pdf_url
    if facts.source is FeedName.CSL:
        return None
    return PUBLIC_INSPECTION_PDF.format(number=facts.document_number)


def _security_line(match: Match, security: Security, quote: Quote | None) -> MatchedSecurity:
    fields: dict[str, Any] = {}
    if quote is not None:
        fields = {
            "last_price": quote.price,
            "last_price_at": quote.at,
            "reference_price": quote.reference_price,
            "move": quote.move,
            "extended_hours": quote.extended_hours,
            "halted": quote.halted,
        }
    return MatchedSecurity(
        **_revenue_share(match),
        symbol=match.symbol,
        issuer=security.issuer_name,
        exchange_mic=security.exchange_mic,
        relation=match.relation,
        score=match.score,
        confirmed=match.confirmed,
        reason=match.reason,
        entity_name=match.entity_name,
        currency=security.currency,
        **fields,
    )


# Names the matcher may give a revenue share's source and year, as attributes or features (the exposure seed's
# ``source`` column arrives as the ``exposure_source`` feature today).
_SOURCE_NAMES = ("revenue_share_source", "share_source", "weight_source", "exposure_source")
_YEAR_NAMES = ("revenue_share_year", "share_year", "weight_year", "exposure_year", "fiscal_year")


def _revenue_share(match: Match) -> dict[str, Any]:
    """A supplier's (customer's) revenue share, with its source and year when the match carries them."""
    share = getattr(match, "revenue_share", None)
    if share is None:
        share = match.weight

    def first(names: tuple[str, ...]) -> Any:
        for name in names:
            value = getattr(match, name, None)
            if value is None:
                value = match.features.get(name)
            if value not in (None, ""):
                return value
        return None

    source, year = first(_SOURCE_NAMES), first(_YEAR_NAMES)
    try:
        year_number = int(year) if year is not None else None
    except (TypeError, ValueError):
        year_number = None
    return {
        "revenue_share": float(share) if share is not None and 0 <= float(share) <= 1 else None,
        "share_source": str(source) if source is not None else None,
        "share_year": year_number,
    }
