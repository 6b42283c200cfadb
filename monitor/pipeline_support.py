"""Small pieces the pipeline is built from: a document's facts, match ranking, the universe fingerprint, the
study subjects of an event, and the bar reader that hides bars not final at the clock's now (no look-ahead)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.db.tables import (
    CorporateLink,
    Document,
    EventRow,
    Exposure,
    ListingActionRow,
    MatchRow,
    SecurityAlias,
    SecurityRow,
    Study,
)
from monitor.followups import SecurityMeta
from monitor.models import Match, ParseStatus, Relation
from monitor.study_runner import BarReader, Subject

if TYPE_CHECKING:
    import pandas as pd

    from monitor.prices.calendars import Calendars

RELATION_RANK: dict[Relation, int] = {relation: rank for rank, relation in enumerate(Relation)}


@dataclass(frozen=True)
class EventFacts:
    """What the alerts and the event need from a stored document, read once."""

    document_number: str
    title: str
    source: str
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
            source=row.source,
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
    """Changes whenever a listing, alias, link or exposure is added, changed or removed."""
    securities = session.execute(select(func.count(), func.max(SecurityRow.updated_at), func.max(SecurityRow.id))).one()
    aliases = session.execute(select(func.count(), func.max(SecurityAlias.id))).one()
    links = session.execute(select(func.count(), func.max(CorporateLink.id))).one()
    exposures = session.execute(select(func.count(), func.max(Exposure.id))).one()
    return (*securities, *aliases, *links, *exposures)


def study_meta(session: Session, event_id: int) -> tuple[list[Subject], dict[str, SecurityMeta]]:
    """The event's studied securities as study subjects, and what alerts say about each."""
    rows = session.execute(
        select(Study.symbol, Study.benchmark, Study.relation, SecurityRow.exchange_mic, SecurityRow.issuer_name)
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
    subjects: list[Subject] = []
    meta: dict[str, SecurityMeta] = {}
    for study_symbol, benchmark, relation, mic, issuer in rows:
        symbol = str(study_symbol)
        subjects.append(Subject(symbol=symbol, benchmark=benchmark, mic=mic, relation=relation))
        score, entity = (best[symbol][1], best[symbol][2]) if symbol in best else (1.0, "")
        meta[symbol] = SecurityMeta(
            issuer=issuer or symbol,
            exchange_mic=mic or "",
            relation=Relation(relation or Relation.DIRECT.value),
            score=score,
            entity_name=entity,
        )
    return subjects, meta


@dataclass
class FinalBars:
    """A bar reader that only shows sessions final at ``now``: a study never sees a bar from its future.

    The backfill runs each event with the clock at that event's moment while later bars are already stored;
    the daemon never stores unfinished bars, so for it this is a cheap no-op.
    """

    inner: BarReader
    calendars: Calendars
    now: datetime
    margin_minutes: int
    problems: dict[str, str] = field(default_factory=dict)

    def bars_many(self, symbols: Iterable[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        """Bars dated up to ``settled_through`` are final, bars dated after ``now``'s next day are not; only the few
        dates between are judged by their exchange's close, once per calendar (a backfill's frames run months
        past its now, over hundreds of securities)."""
        import numpy as np
        import pandas as pd

        from monitor.prices.exchanges import listing

        frames = self.inner.bars_many(symbols, start, end)
        self.problems.update(getattr(self.inner, "problems", {}))
        settled = np.datetime64(self.settled_through(), "ns")
        beyond = np.datetime64(self.now.date() + timedelta(days=1), "ns")
        spans: dict[str, tuple[str, int, int]] = {}
        undecided: dict[str, set[np.datetime64]] = {}
        for symbol, frame in frames.items():
            values = frame.index.values
            lo = int(np.searchsorted(values, settled, side="right"))
            hi = int(np.searchsorted(values, beyond, side="right"))
            calendar = listing(symbol).calendar
            spans[symbol] = (calendar, lo, hi)
            undecided.setdefault(calendar, set()).update(values[lo:hi])
        verdicts: dict[str, dict[np.datetime64, bool]] = {}
        for calendar, dates in undecided.items():
            ordered = pd.DatetimeIndex(sorted(dates), dtype="datetime64[ns]")
            final: Iterable[bool] = self.calendars.final_mask(calendar, ordered, self.now, self.margin_minutes)
            verdicts[calendar] = {value: bool(ok) for value, ok in zip(ordered.values, final, strict=True)}
        out: dict[str, pd.DataFrame] = {}
        for symbol, frame in frames.items():
            calendar, lo, hi = spans[symbol]
            if lo == len(frame):
                out[symbol] = frame
                continue
            middle = np.array([verdicts[calendar][value] for value in frame.index.values[lo:hi]], dtype=bool)
            settled_count = int(middle.sum())
            if middle[:settled_count].all():  # the usual shape: final up to a point, then not (a view, no copy)
                out[symbol] = frame.iloc[: lo + settled_count]
            else:
                out[symbol] = frame[np.concatenate([np.ones(lo, dtype=bool), middle, np.zeros(len(frame) - hi, bool)])]
        return out

    def settled_through(self) -> date:
        """Bars dated up to this day are final on every exchange: a session closes before its local day ends, and
        no local day ends more than 36 hours after the start of the same UTC date."""
        return (self.now - timedelta(minutes=self.margin_minutes, days=2)).date()
