"""The stored CSL snapshot and the pseudo-documents for Entity List rows no Federal Register document explains.

Convention: a new Entity List row on the CSL whose citations and names match no stored rule becomes a document
numbered ``CSL-<entry id>`` (source ``csl``, flagged as an Entity List action, parsed) holding one ``add``
listing action from source ``csl``. That is how a listing reaches the pipeline even if the Federal Register
feeds missed it. The first snapshot of an empty store is a baseline and creates none: thousands of existing
listings are not news.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from monitor.db.tables.documents import CslEntry, Document, ListingActionRow
from monitor.db.upsert import upsert
from monitor.feeds.classify import Classification
from monitor.feeds.csl import CslDiff, CslRecord
from monitor.feeds.extraction import ExtractionOutcome
from monitor.feeds.store import SavedDocument, save_document, save_extraction
from monitor.models import ActionKind, FeedName, ListingAction, ParseStatus, RegulatoryDocument

PSEUDO_PREFIX = "CSL-"
_CHUNK = 500


def pseudo_document_number(entry_id: str) -> str:
    return PSEUDO_PREFIX + re.sub(r"[^\w-]", "", entry_id)[:60]


def active_hashes(session: Session) -> dict[str, str]:
    rows = session.execute(select(CslEntry.entry_id, CslEntry.row_hash).where(CslEntry.removed_at.is_(None)))
    return {entry_id: row_hash for entry_id, row_hash in rows}


def has_snapshot(session: Session) -> bool:
    return session.execute(select(CslEntry.id).limit(1)).first() is not None


def apply_snapshot(session: Session, diff: CslDiff, now: datetime) -> None:
    """Write the diff: new and changed rows upserted, removed rows stamped, every present row marked seen."""
    rows = [_row(record, now) for record in (*diff.new, *diff.changed)]
    upsert(session, CslEntry, rows, key=["entry_id"], insert_only=["first_seen_at"])
    for start in range(0, len(diff.removed), _CHUNK):
        chunk = list(diff.removed[start : start + _CHUNK])
        session.execute(
            update(CslEntry).where(CslEntry.entry_id.in_(chunk), CslEntry.removed_at.is_(None)).values(removed_at=now)
        )
    session.execute(update(CslEntry).where(CslEntry.removed_at.is_(None)).values(last_seen_at=now))


def _row(record: CslRecord, now: datetime) -> dict[str, object]:
    return {
        "entry_id": record.entry_id,
        "source_code": record.source_code,
        "name": record.name,
        "alt_names": list(record.alt_names),
        "addresses": list(record.addresses),
        "countries": list(record.countries),
        "federal_register_notice": record.federal_register_notice,
        "start_date": record.start_date,
        "license_requirement": record.license_requirement,
        "license_policy": record.license_policy,
        "row_hash": record.row_hash,
        "first_seen_at": now,
        "last_seen_at": now,
        "removed_at": None,
    }


def covered_by_rule(session: Session, record: CslRecord, *, names_since: datetime) -> bool:
    """Does a stored rule already explain this row: a cited FR page inside a stored document or row citation,
    or the same name on a listing action of a document first seen after ``names_since``?"""
    for citation in record.citations:
        volume, _, page_text = citation.partition(" FR ")
        page = int(page_text)
        spans = select(Document.id).where(
            Document.citation.like(f"{volume} FR %"), Document.start_page <= page, Document.end_page >= page
        )
        cited_rows = select(ListingActionRow.id).where(
            or_(
                ListingActionRow.federal_register_citation == citation,
                ListingActionRow.federal_register_citation.like(f"{citation},%"),
            )
        )
        if session.execute(spans.limit(1)).first() or session.execute(cited_rows.limit(1)).first():
            return True
    names = [name.lower() for name in (record.name, *record.alt_names)]
    recent_names = (
        select(ListingActionRow.id)
        .join(Document, Document.id == ListingActionRow.document_id)
        .where(
            func.lower(ListingActionRow.entity_name).in_(names),
            Document.first_seen_at >= names_since,
            Document.source != FeedName.CSL.value,
        )
        .limit(1)
    )
    return session.execute(recent_names).first() is not None


def is_recent_listing(record: CslRecord, now: datetime, max_age_days: int) -> bool:
    """A row with an old start_date is a re-keyed or edited entry, not a new listing."""
    return record.start_date is None or record.start_date >= (now - timedelta(days=max_age_days)).date()


def save_csl_listing(session: Session, record: CslRecord, now: datetime) -> SavedDocument:
    """The pseudo-document and its single ``add`` action for an unexplained new Entity List row."""
    action = ListingAction(
        action=ActionKind.ADD,
        entity_name=record.name,
        aliases=record.alt_names,
        country=record.countries[0] if record.countries else None,
        country_iso=record.countries[0] if record.countries else None,
        addresses=record.addresses,
        license_requirement=record.license_requirement,
        license_review_policy=record.license_policy,
        federal_register_citation=record.federal_register_notice,
        source=FeedName.CSL,
    )
    document = RegulatoryDocument(
        document_number=pseudo_document_number(record.entry_id),
        source=FeedName.CSL,
        title=f"Consolidated Screening List: {record.name} added to the Entity List",
        document_type="CSL",
        agencies=("industry-and-security-bureau",),
        citation=(record.citations[-1] if record.citations else None),
        publication_date=record.start_date,
    )
    reason = "new Entity List row on the Consolidated Screening List with no Federal Register rule behind it"
    saved = save_document(
        session,
        document,
        feed=FeedName.CSL,
        seen_at=now,
        classification=Classification(is_bis=True, is_entity_list=True, reason=reason),
        raw={
            "entry_id": record.entry_id,
            "source": record.source,
            "federal_register_notice": record.federal_register_notice,
        },
    )
    save_extraction(session, saved.id, ExtractionOutcome(status=ParseStatus.PARSED, actions=(action,), method="csl"))
    return saved


def entity_list_records(records: Sequence[CslRecord]) -> list[CslRecord]:
    return [record for record in records if record.is_entity_list]
