"""Recovering a past rule's public-inspection filing time, the moment the market could first react.

Most published records carry it already (the epoch in ``public_inspection_pdf_url``, or the ``FRDOC`` line of
the XML). For the rest the public-inspection issues of the days before publication are asked, newest first,
until one lists the document: one request per rule in the usual case, a handful at most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import MonitorError
from monitor.feeds import store
from monitor.feeds.classify import classify
from monitor.feeds.federal_register import FederalRegisterClient
from monitor.feeds.records import PiDocumentRecord
from monitor.feeds.schedule import is_posting_day
from monitor.logs import get_logger
from monitor.models import FeedName

log = get_logger(__name__)

LOOKBACK_POSTING_DAYS = 5  # a rule is on public inspection at least the business day before publication


@dataclass
class FilingLookup:
    found: dict[str, datetime] = field(default_factory=dict)  # document number -> filed_at
    not_found: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    requests: int = 0


def posting_days_before(published: date, count: int = LOOKBACK_POSTING_DAYS) -> list[date]:
    """The ``count`` public-inspection posting days before ``published``, newest first."""
    days: list[date] = []
    day = published
    while len(days) < count:
        day -= timedelta(days=1)
        if is_posting_day(day):
            days.append(day)
    return days


def find_filing(
    fr: FederalRegisterClient, number: str, published: date, lookup: FilingLookup
) -> PiDocumentRecord | None:
    for day in posting_days_before(published):
        lookup.requests += 1
        for record in fr.public_inspection_day(day).unique_results():
            if record.document_number == number and record.filed_at is not None:
                return record
    return None


def fill_filing_times(
    sessions: sessionmaker[Session],
    fr: FederalRegisterClient,
    documents: Sequence[tuple[int, str, date]],
    *,
    now: datetime,
    on_done: Callable[[str], None] | None = None,
) -> FilingLookup:
    """Store the filing of each ``(id, number, publication date)`` found on public inspection; never raises for
    one rule (a failed lookup is reported and the rule keeps its publication date)."""
    lookup = FilingLookup()
    for _document_id, number, published in documents:
        try:
            record = find_filing(fr, number, published, lookup)
        except MonitorError as exc:
            lookup.errors[number] = f"public inspection lookup failed: {exc}"
            log.warning("filing_lookup_failed", document=number, error=str(exc))
            record = None
        else:
            if record is None:
                lookup.not_found.append(number)
        if record is not None:
            document = record.to_document()
            with sessions.begin() as session:
                store.save_document(
                    session,
                    document,
                    feed=FeedName.PUBLIC_INSPECTION,
                    seen_at=now,
                    classification=classify(document, subjects=record.subjects),
                    raw=record.model_dump(mode="json"),
                )
            assert record.filed_at is not None
            lookup.found[number] = record.filed_at
            log.info("filing_time_found", document=number, filed_at=record.filed_at.isoformat())
        if on_done is not None:
            on_done(number)
    return lookup
