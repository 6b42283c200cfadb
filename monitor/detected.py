"""The ``detected`` alert: the first message a trader sees about a rule, written with the event's facts.

One card per event, enqueued when the rule is first processed. If a later arrival of the same rule changes what a
trader should know (the published version names securities the public-inspection text did not, or a rule that
could not be parsed now can be), an update card follows; otherwise re-processing enqueues nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import Settings
from monitor.db.tables import AlertRow, EventRow
from monitor.models import AlertStage, AnnouncementSource, ListingAction, Match, Security
from monitor.outbox import DetectedAlert, EntityLine, MatchedSecurity, enqueue
from monitor.pipeline_support import EventFacts

# Agency slugs as the Federal Register names them, and how a trader knows them.
AGENCY_NAMES = {
    "industry-and-security-bureau": "Bureau of Industry and Security",
    "commerce-department": "Department of Commerce",
}
PUBLIC_INSPECTION_PDF = "https://public-inspection.federalregister.gov/{number}.pdf"


def detected_alert(
    session: Session,
    settings: Settings,
    *,
    event: EventRow,
    facts: EventFacts,
    actions: Sequence[ListingAction],
    best: Mapping[str, Match],
    securities: Mapping[str, Security],
    quotes: Mapping[str, Any],
    now: datetime,
) -> tuple[str, ...]:
    """Enqueue the event's card, or an update card when this arrival adds something; returns new dedup keys."""
    lines = tuple(_security_line(best[symbol], securities[symbol], quotes.get(symbol)) for symbol in securities)
    entities = tuple(
        EntityLine(name=a.entity_name, country=a.country, action=a.action, aliases=a.aliases) for a in actions
    )
    earlier = session.scalars(
        select(AlertRow.payload).where(AlertRow.event_id == event.id, AlertRow.stage == AlertStage.DETECTED.value)
    ).all()
    if earlier:
        told_symbols = {line["symbol"] for payload in earlier for line in payload.get("securities", ())}
        told_entities = any(payload.get("entities") for payload in earlier)
        new_symbols = {line.symbol for line in lines if line.confirmed} - told_symbols
        if not new_symbols and (told_entities or not entities):
            return ()
        group = f"update-{len(earlier)}"
    else:
        group = "all"
    alert = DetectedAlert(
        event_id=event.id,
        group=group,
        document_number=facts.document_number,
        title=facts.title,
        action=facts.action,
        filed_by=tuple(AGENCY_NAMES.get(slug, slug.replace("-", " ").title()) for slug in facts.agencies),
        filed_at=facts.filed_at,
        filing_type=facts.filing_type,
        announced_at=event.announced_at,
        announced_source=AnnouncementSource(event.announced_source),
        publication_date=facts.publication_date,
        effective_on=facts.effective_on,
        entities=entities,
        securities=lines,
        federal_register_url=facts.html_url or f"https://www.federalregister.gov/d/{facts.document_number}",
        public_inspection_pdf_url=_pi_pdf(facts),
        parse_status=facts.parse_status,
        parse_error=facts.parse_error,
    )
    queued = enqueue(session, alert, settings=settings, now=now)
    return (queued.dedup_key,) if queued.created else ()


def _pi_pdf(facts: EventFacts) -> str | None:
    if facts.public_inspection_pdf_url:
        return facts.public_inspection_pdf_url
    if facts.source == "csl":
        return None
    return PUBLIC_INSPECTION_PDF.format(number=facts.document_number)


def _security_line(match: Match, security: Security, quote: Any) -> MatchedSecurity:
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
