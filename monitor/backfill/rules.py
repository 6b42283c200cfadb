"""Which stored rules a backfill covers, and when each became public.

A rule is in a backfill's range when its publication date (or, before publication, its filing day in Washington)
falls within ``[since, until]``: the same slice the Federal Register search returns. Its moment is dated exactly as
the pipeline dates it (``monitor.pipeline.dating.announcement`` with the same overrides), so the backfill can set its
clock to the instant the rule arrived, and process the rules oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.clock import NEW_YORK
from monitor.db.tables import Document
from monitor.models import AnnouncementSource, ParseStatus
from monitor.pipeline.dating import Signals, announcement


@dataclass(frozen=True)
class RuleToReplay:
    document_id: int
    document_number: str
    title: str
    announced_at: datetime
    announced_source: AnnouncementSource
    parse_status: ParseStatus
    parse_error: str | None
    range_date: date  # the date that put it in range: publication, else the filing day in New York


def range_date(document: Document) -> date:
    if document.publication_date is not None:
        return document.publication_date
    moment = document.filed_at or document.first_seen_at
    return moment.astimezone(NEW_YORK).date()


def rules_in_range(
    session: Session, since: date, until: date | None, overrides: Mapping[str, datetime]
) -> list[RuleToReplay]:
    """Entity List documents in range, oldest announcement first (ties by document number)."""
    documents = session.scalars(select(Document).where(Document.is_entity_list.is_(True))).all()
    rules: list[RuleToReplay] = []
    for document in documents:
        day = range_date(document)
        if day < since or (until is not None and day > until):
            continue
        announced_at, source = announcement(
            Signals.of(document),
            overrides.get(document.document_number),
        )
        rules.append(
            RuleToReplay(
                document_id=document.id,
                document_number=document.document_number,
                title=" ".join(document.title.split()),
                announced_at=announced_at,
                announced_source=source,
                parse_status=ParseStatus(document.parse_status),
                parse_error=document.parse_error,
                range_date=day,
            )
        )
    return sorted(rules, key=lambda rule: (rule.announced_at, rule.document_number))


def lacking_filing_time(session: Session, since: date, until: date | None) -> list[tuple[int, str, date]]:
    """(id, number, publication date) of published Entity List rules in range whose filing time is unknown."""
    rows = session.execute(
        select(Document.id, Document.document_number, Document.publication_date).where(
            Document.is_entity_list.is_(True),
            Document.filed_at.is_(None),
            Document.publication_date.is_not(None),
            Document.publication_date >= since,
        )
    ).all()
    return [
        (int(row_id), str(number), published)
        for row_id, number, published in rows
        if published is not None and (until is None or published <= until)
    ]
