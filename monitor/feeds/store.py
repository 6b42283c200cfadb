"""Persistence for the feeds: documents merged across feeds, listing actions, feed state. All idempotent.

A document is one row per ``document_number`` whichever feed saw it first. The public-inspection version and
the published version merge into it: the published title, citation and URLs win; the filing time and type come
from public inspection (or, for a document never seen there, a plausible epoch in ``public_inspection_pdf_url``);
``first_seen_at`` is written once, and ``pi_seen_at``/``published_seen_at`` record when each feed first reported
it. Once flagged as an Entity List action a document stays flagged. Listing actions are keyed by (document, action,
country, name); a better extraction (XML over text) replaces a worse one, never the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from monitor.db.tables.documents import Document, EventRow, FeedState, ListingActionRow
from monitor.db.types import UTCDateTime
from monitor.db.upsert import upsert, upsert_returning_id
from monitor.feeds.classify import Classification
from monitor.feeds.extraction import STATUS_RANK, ExtractionOutcome
from monitor.models import ActionKind, FeedName, ListingAction, ParseStatus, RegulatoryDocument

_DESCRIPTIVE = (
    "title", "document_type", "agencies", "abstract", "action", "citation", "start_page", "end_page", "cfr_parts",
    "html_url", "pdf_url", "public_inspection_pdf_url", "full_text_xml_url", "raw_text_url", "publication_date",
    "effective_on",
)  # fmt: skip
_SIGNALS = ("filed_at", "filing_type", "pi_seen_at", "published_seen_at")
_WRITE_ONCE = ("source", "first_seen_at", "parse_error")


@dataclass(frozen=True)
class SavedDocument:
    """What a poll learned about one document; the pipeline acts on ``created``/``newly_on_feed``."""

    id: int
    document_number: str
    created: bool  # no poll of any feed had seen it before
    newly_on_feed: bool  # the first time this feed reported it (e.g. a PI filing now published)
    is_entity_list: bool
    classification: str
    parse_status: ParseStatus
    title: str
    html_url: str | None
    full_text_xml_url: str | None
    raw_text_url: str | None


def save_document(
    session: Session,
    document: RegulatoryDocument,
    *,
    feed: FeedName,
    seen_at: datetime,
    classification: Classification,
    raw: Mapping[str, Any] | None = None,
) -> SavedDocument:
    """Upsert one document as reported by ``feed`` at ``seen_at``; safe to repeat."""
    existing = session.execute(
        select(Document).where(Document.document_number == document.document_number)
    ).scalar_one_or_none()
    created = existing is None
    was_entity_list = existing is not None and existing.is_entity_list
    is_entity_list = was_entity_list or classification.is_entity_list
    reason = classification.reason if classification.is_entity_list or existing is None else existing.classification
    if existing is not None and (existing.is_entity_list or not is_entity_list):
        status = existing.parse_status
    else:
        status = (ParseStatus.PENDING if is_entity_list else ParseStatus.NOT_APPLICABLE).value
    seen_column = "pi_seen_at" if feed is FeedName.PUBLIC_INSPECTION else "published_seen_at"
    seen_before = existing is not None and getattr(existing, seen_column) is not None
    merged_raw = dict(existing.raw) if existing is not None else {}
    if raw is not None:
        merged_raw[feed.value] = dict(raw)
    row: dict[str, Any] = document.model_dump(include=set(_DESCRIPTIVE) | {"filed_at", "filing_type"})
    if feed is FeedName.DOCUMENTS and existing is not None and existing.pi_seen_at is not None:
        # A published record's filing time is only the epoch of its PI PDF URL, a cache-buster that can be stale;
        # a filing we saw on public inspection is dated by that record's filed_at and our own sighting instead.
        row["filed_at"] = None
    row["agencies"] = list(document.agencies)
    row["cfr_parts"] = list(document.cfr_parts)
    row.update(
        document_number=document.document_number,
        source=feed.value,
        first_seen_at=seen_at,
        pi_seen_at=seen_at if feed is FeedName.PUBLIC_INSPECTION else None,
        published_seen_at=seen_at if feed is FeedName.DOCUMENTS else None,
        is_entity_list=is_entity_list,
        classification=reason,
        parse_status=status,
        parse_error=None,
        raw=merged_raw,
    )
    if feed is FeedName.DOCUMENTS:  # the published version is authoritative for what it says
        options: dict[str, Sequence[str]] = {"prefer_new": _DESCRIPTIVE, "fill_nulls": _SIGNALS}
    else:  # public inspection (and CSL) only fill gaps: a PI title is a table-of-contents subject
        options = {"fill_nulls": (*_DESCRIPTIVE, *_SIGNALS)}
    document_id = upsert_returning_id(
        session, Document, row, key=["document_number"], insert_only=_WRITE_ONCE, **options
    )
    stored = session.get(Document, document_id, populate_existing=True)
    assert stored is not None
    return SavedDocument(
        id=document_id,
        document_number=document.document_number,
        created=created,
        newly_on_feed=not seen_before,
        is_entity_list=stored.is_entity_list,
        classification=stored.classification or "",
        parse_status=ParseStatus(stored.parse_status),
        title=stored.title,
        html_url=stored.html_url,
        full_text_xml_url=stored.full_text_xml_url,
        raw_text_url=stored.raw_text_url,
    )


def save_extraction(session: Session, document_id: int, outcome: ExtractionOutcome) -> bool:
    """Record an extraction outcome; returns True when the stored status or listing actions changed."""
    document = session.get(Document, document_id, populate_existing=True)
    if document is None:
        raise ValueError(f"no document with id {document_id}")
    current = ParseStatus(document.parse_status)
    text_changed = bool(outcome.text) and outcome.text != document.pi_text
    if text_changed:  # whatever the parse made of it, the text is worth spotting names in
        document.pi_text = outcome.text
    if STATUS_RANK[outcome.status] < STATUS_RANK[current]:
        session.flush()
        return text_changed
    changed = text_changed or current is not outcome.status or document.parse_error != outcome.error
    document.parse_status = outcome.status.value
    document.parse_error = outcome.error
    if document.filed_at is None and outcome.filed_at is not None:
        document.filed_at = outcome.filed_at
    if outcome.actions:
        changed |= replace_listing_actions(session, document_id, outcome.actions)
    session.flush()
    return changed


def replace_listing_actions(session: Session, document_id: int, actions: Sequence[ListingAction]) -> bool:
    """Make the document's stored actions exactly ``actions`` (upsert by natural key, drop the rest)."""
    before = {
        (row.action, row.country, row.entity_name): (tuple(row.aliases), tuple(row.addresses))
        for row in session.execute(select(ListingActionRow).where(ListingActionRow.document_id == document_id))
        .scalars()
        .all()
    }
    rows: list[dict[str, Any]] = [
        {
            "document_id": document_id,
            "seq": seq,
            "action": action.action.value,
            "entity_name": action.entity_name,
            "aliases": list(action.aliases),
            "country": action.country or "",
            "country_iso": action.country_iso,
            "addresses": list(action.addresses),
            "license_requirement": action.license_requirement,
            "license_review_policy": action.license_review_policy,
            "federal_register_citation": action.federal_register_citation,
            "source": action.source.value,
        }
        for seq, action in enumerate(actions)
    ]
    upsert(session, ListingActionRow, rows, key=["document_id", "action", "country", "entity_name"])
    keep = {(row["action"], row["country"], row["entity_name"]) for row in rows}
    stale = [key for key in before if key not in keep]
    for action, country, name in stale:
        session.execute(
            delete(ListingActionRow).where(
                ListingActionRow.document_id == document_id,
                ListingActionRow.action == action,
                ListingActionRow.country == country,
                ListingActionRow.entity_name == name,
            )
        )
    after = {(r["action"], r["country"], r["entity_name"]): (tuple(r["aliases"]), tuple(r["addresses"])) for r in rows}
    return after != before


def load_listing_actions(session: Session, document_id: int) -> tuple[ListingAction, ...]:
    rows = session.execute(
        select(ListingActionRow).where(ListingActionRow.document_id == document_id).order_by(ListingActionRow.seq)
    ).scalars()
    return tuple(
        ListingAction(
            action=ActionKind(row.action),
            entity_name=row.entity_name,
            aliases=tuple(row.aliases),
            country=row.country or None,
            country_iso=row.country_iso,
            addresses=tuple(row.addresses),
            license_requirement=row.license_requirement,
            license_review_policy=row.license_review_policy,
            federal_register_citation=row.federal_register_citation,
            source=FeedName(row.source),
        )
        for row in rows
    )


def known_on_feed(session: Session, numbers: Sequence[str], feed: FeedName) -> set[str]:
    """Which of ``numbers`` this feed has already reported (so a poll can stop at the first of them)."""
    if not numbers:
        return set()
    column = Document.pi_seen_at if feed is FeedName.PUBLIC_INSPECTION else Document.published_seen_at
    found = session.execute(
        select(Document.document_number).where(Document.document_number.in_(list(numbers)), column.is_not(None))
    ).scalars()
    return set(found)


def any_published(session: Session) -> bool:
    return (
        session.execute(select(Document.id).where(Document.published_seen_at.is_not(None)).limit(1)).first() is not None
    )


def retryable_extractions(session: Session, limit: int) -> list[Document]:
    """Published Entity List documents still waiting for a usable XML or text (a fetch failed earlier)."""
    return list(
        session.execute(
            select(Document)
            .where(
                Document.is_entity_list.is_(True),
                Document.parse_status == ParseStatus.PENDING.value,
                Document.published_seen_at.is_not(None),
            )
            .order_by(Document.first_seen_at)
            .limit(limit)
        ).scalars()
    )


def bump_extraction_attempts(session: Session, document_id: int) -> int:
    document = session.get(Document, document_id, populate_existing=True)
    assert document is not None
    raw = dict(document.raw)
    attempts = int(raw.get("extraction_attempts", 0)) + 1
    raw["extraction_attempts"] = attempts
    document.raw = raw
    session.flush()
    return attempts


# --- durable pipeline work ----------------------------------------------------------------------------------------


def mark_pipeline_due(session: Session, document_id: int, now: datetime) -> None:
    """The document changed in a way the pipeline must see: bump its revision and make it due (since ``now``, unless
    it already was). Written in the transaction that stores the change, so a crash right after the commit leaves
    the document due rather than forgotten. The increment is done by the database, so two writers never both
    claim the same revision."""
    session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(
            pipeline_revision=Document.pipeline_revision + 1,
            pipeline_due_since=func.coalesce(Document.pipeline_due_since, literal(now, UTCDateTime())),
        )
        .execution_options(synchronize_session=False)
    )


def finish_pipeline(session: Session, document_id: int, revision: int) -> bool:
    """The pipeline has processed ``revision`` of the document (in the transaction that writes its results): no
    longer due, unless a newer change arrived meanwhile, which keeps it due for the next pass."""
    done = session.execute(
        update(Document)
        .where(Document.id == document_id, Document.pipeline_revision == revision)
        .values(pipeline_due_since=None)
        .returning(Document.id)
        .execution_options(synchronize_session=False)
    ).first()
    return done is not None


@dataclass(frozen=True)
class DueDocument:
    id: int
    document_number: str
    due_since: datetime  # when the change the pipeline has not processed was stored


def due_documents(session: Session) -> list[DueDocument]:
    """Entity List documents the pipeline has not finished, oldest first: those marked due, and any stored without
    an event (written before documents were marked, or by hand), due since they were first seen."""
    since = func.coalesce(Document.pipeline_due_since, Document.first_seen_at)
    rows = session.execute(
        select(Document.id, Document.document_number, Document.pipeline_due_since, Document.first_seen_at)
        .where(
            Document.is_entity_list.is_(True),
            or_(Document.pipeline_due_since.is_not(None), Document.id.not_in(select(EventRow.document_id))),
        )
        .order_by(since, Document.id)
    ).all()
    return [DueDocument(int(i), str(n), due or first) for i, n, due, first in rows]


# --- feed state ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedStatus:
    feed: str
    cursor: dict[str, Any]
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int


def read_feed_state(session: Session, feed: FeedName) -> FeedStatus:
    row = session.get(FeedState, feed.value, populate_existing=True)
    if row is None:
        return FeedStatus(feed.value, {}, None, None, None, 0)
    return FeedStatus(
        row.feed, dict(row.cursor), row.last_attempt_at, row.last_success_at, row.last_error, row.consecutive_failures
    )


def record_poll_success(session: Session, feed: FeedName, now: datetime, cursor: Mapping[str, Any]) -> None:
    upsert(
        session,
        FeedState,
        [
            {
                "feed": feed.value,
                "cursor": dict(cursor),
                "last_attempt_at": now,
                "last_success_at": now,
                "last_error": None,
                "consecutive_failures": 0,
            }
        ],
        key=["feed"],
    )


def record_poll_failure(session: Session, feed: FeedName, now: datetime, error: str) -> int:
    """Counts consecutive failures (the readiness probe and alerts on a dead feed read this)."""
    previous = read_feed_state(session, feed)
    failures = previous.consecutive_failures + 1
    upsert(
        session,
        FeedState,
        [
            {
                "feed": feed.value,
                "cursor": previous.cursor,
                "last_attempt_at": now,
                "last_success_at": previous.last_success_at,
                "last_error": error[:2000],
                "consecutive_failures": failures,
            }
        ],
        key=["feed"],
    )
    return failures
