"""What the pipeline knows about an event before it acts: a document's facts, match ranking, the universe
fingerprint, and the studied securities of an event with what alerts say about each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.tables import (
    Document,
    EventRow,
    ListingActionRow,
    MatchRow,
    SecurityRow,
    Study,
)
from monitor.models import FeedName, Match, ParseStatus, Relation
from monitor.pipeline.studies import Subject

RELATION_RANK: dict[Relation, int] = {relation: rank for rank, relation in enumerate(Relation)}


@dataclass(frozen=True)
class EventFacts:
    """What the alerts and the event need from a stored document, read once."""

    document_number: str
    title: str
    source: FeedName
    agencies: tuple[str, ...]
    action: str | None
    filed_at: datetime | None
    filing_type: str | None
    pi_seen_at: datetime | None
    publication_date: date | None
    effective_on: date | None
    first_seen_at: datetime
    html_url: str | None
    public_inspection_pdf_url: str | None
    parse_status: ParseStatus
    parse_error: str | None

    @classmethod
    def from_document(cls, row: Document) -> EventFacts:
        return cls(
            document_number=row.document_number,
            title=" ".join(row.title.split()),
            source=FeedName(row.source),
            agencies=tuple(row.agencies or ()),
            action=row.action,
            filed_at=row.filed_at,
            filing_type=row.filing_type,
            pi_seen_at=row.pi_seen_at,
            publication_date=row.publication_date,
            effective_on=row.effective_on,
            first_seen_at=row.first_seen_at,
            html_url=row.html_url,
            public_inspection_pdf_url=row.public_inspection_pdf_url,
            parse_status=ParseStatus(row.parse_status),
            parse_error=row.parse_error,
        )


@dataclass(frozen=True)
class SecurityMeta:
    """What the universe and the matches say about a studied security."""

    issuer: str
    exchange_mic: str
    relation: Relation
    score: float
    entity_name: str


def _preference(match: Match) -> tuple[int, int, float]:
    return (0 if match.confirmed else 1, RELATION_RANK[match.relation], -match.score)


def best_by_symbol(matches: Iterable[Match]) -> dict[str, Match]:
    """One match per security: confirmed before review, then the closest relation, then the highest score.

    Ordered the same way, so alerts list direct targets first.
    """
    best: dict[str, Match] = {}
    for match in matches:
        kept = best.get(match.symbol)
        if kept is None or _preference(match) < _preference(kept):
            best[match.symbol] = match
    return dict(sorted(best.items(), key=lambda item: _preference(item[1])))


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever the universe the matcher reads changes (listings, aliases, links, exposures, GLEIF records)."""
    from monitor.matching.store import universe_version

    return (universe_version(session),)


def study_meta(session: Session, event_id: int) -> tuple[list[Subject], dict[str, SecurityMeta]]:
    """The event's studied securities as study subjects, and what alerts say about each."""
    rows = session.execute(
        select(
            Study.symbol,
            Study.benchmark,
            Study.relation,
            SecurityRow.exchange_mic,
            SecurityRow.issuer_name,
            SecurityRow.listed_on,
            SecurityRow.delisted_on,
        )
        .outerjoin(SecurityRow, SecurityRow.symbol == Study.symbol)
        .where(Study.event_id == event_id)
        .order_by(Study.id)
    ).all()
    document_id = select(EventRow.document_id).where(EventRow.id == event_id).scalar_subquery()
    matches = session.execute(
        select(SecurityRow.symbol, MatchRow.relation, MatchRow.score, MatchRow.confirmed, ListingActionRow.entity_name)
        .join(MatchRow, MatchRow.security_id == SecurityRow.id)
        .join(ListingActionRow, ListingActionRow.id == MatchRow.listing_action_id)
        .where(ListingActionRow.document_id == document_id, MatchRow.confirmed.is_(True))
    ).all()
    best: dict[str, tuple[int, float, str]] = {}
    for matched_symbol, match_relation, score, _confirmed, entity in matches:
        symbol = str(matched_symbol)
        rank = RELATION_RANK[Relation(match_relation)]
        if symbol not in best or (rank, -score) < (best[symbol][0], -best[symbol][1]):
            best[symbol] = (rank, float(score), entity)
    announced = select(EventRow.announced_at).where(EventRow.id == event_id).scalar_subquery()
    earlier: dict[str, list[date]] = {}
    for earlier_symbol, earlier_day0 in session.execute(  # the same securities' earlier events (a backfill's)
        select(Study.symbol, Study.day0)
        .join(EventRow, EventRow.id == Study.event_id)
        .where(
            Study.symbol.in_([str(row[0]) for row in rows]),
            Study.event_id != event_id,
            Study.day0.is_not(None),
            EventRow.announced_at < announced,
        )
    ):
        if earlier_day0 is not None:
            earlier.setdefault(str(earlier_symbol), []).append(earlier_day0)
    subjects: list[Subject] = []
    meta: dict[str, SecurityMeta] = {}
    for study_symbol, benchmark, relation, mic, issuer, listed_on, delisted_on in rows:
        symbol = str(study_symbol)
        subjects.append(
            Subject(
                symbol, benchmark, mic, relation, listed_on=listed_on, delisted_on=delisted_on,
                earlier_day0s=tuple(sorted(earlier.get(symbol, ()))),
            )
        )  # fmt: skip
        score, entity = (best[symbol][1], best[symbol][2]) if symbol in best else (1.0, "")
        meta[symbol] = SecurityMeta(
            issuer=issuer or symbol,
            exchange_mic=mic or "",
            relation=Relation(relation or Relation.DIRECT.value),
            score=score,
            entity_name=entity,
        )
    return subjects, meta
