"""The Federal Register API's JSON shapes, validated at the edge and turned into ``RegulatoryDocument``.

Real quirks handled here rather than downstream: a search with no hits has no ``results`` key; public-inspection
``filed_at`` and ``publication_date`` can be null and carry a local UTC offset; PI titles end in spaces and are
table-of-contents subjects; an agency unknown to the registry has only ``raw_name``; placeholders such as
``[INSERT FR PAGE NUMBER]`` stand in for values not known before publication.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.clock import NEW_YORK
from monitor.errors import FeedUnavailable
from monitor.models import FeedName, RegulatoryDocument

BIS_SLUG = "industry-and-security-bureau"
BIS_NAMES = frozenset({"bureau of industry and security", "industry and security bureau"})
M = TypeVar("M", bound=BaseModel)
_PLACEHOLDER = re.compile(r"\[\s*INSERT[^\]]*\]", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def clean_text(value: str | None) -> str | None:
    """Collapse whitespace (PI titles end in spaces); empty means absent."""
    if value is None:
        return None
    cleaned = _SPACES.sub(" ", value).strip()
    return cleaned or None


def is_placeholder(value: str | None) -> bool:
    """True for PI stand-ins like ``[INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]``."""
    return bool(value) and bool(_PLACEHOLDER.search(value or ""))


def without_placeholder(value: str | None) -> str | None:
    """The value, or None when it still holds a pre-publication placeholder."""
    return None if is_placeholder(value) else clean_text(value)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Agency(_Record):
    raw_name: str | None = None
    name: str | None = None
    id: int | None = None
    slug: str | None = None
    parent_id: int | None = None

    @property
    def key(self) -> str:
        """The slug, or a slug made from the raw name for agencies missing from the registry."""
        return self.slug or slugify(self.name or self.raw_name or "unknown")

    @property
    def is_bis(self) -> bool:
        names = {clean_text(n or "") or "" for n in (self.name, self.raw_name)}
        return self.slug == BIS_SLUG or self.id == 241 or any(n.lower() in BIS_NAMES for n in names)


class CfrReference(_Record):
    title: int | str | None = None
    part: int | str | None = None

    @property
    def label(self) -> str | None:
        return f"{self.title} CFR {self.part}" if self.title is not None and self.part is not None else None


class FrDocumentRecord(_Record):
    """One result of ``/documents.json`` or the body of ``/documents/<num>.json``."""

    document_number: str
    title: str | None = None
    type: str | None = None
    abstract: str | None = None
    action: str | None = None
    citation: str | None = None
    start_page: int | None = None
    end_page: int | None = None
    publication_date: date | None = None
    effective_on: date | None = None
    dates: str | None = None
    html_url: str | None = None
    pdf_url: str | None = None
    public_inspection_pdf_url: str | None = None
    full_text_xml_url: str | None = None
    raw_text_url: str | None = None
    agencies: list[Agency] = Field(default_factory=list)
    cfr_references: list[CfrReference] = Field(default_factory=list)
    correction_of: str | None = None

    @field_validator("document_number")
    @classmethod
    def _number(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("empty document_number")
        return value

    @property
    def is_bis(self) -> bool:
        return any(agency.is_bis for agency in self.agencies)

    def to_document(self) -> RegulatoryDocument:
        return RegulatoryDocument(
            document_number=self.document_number,
            source=FeedName.DOCUMENTS,
            title=clean_text(self.title) or f"Federal Register document {self.document_number}",
            document_type=self.type,
            agencies=tuple(dict.fromkeys(agency.key for agency in self.agencies)),
            abstract=clean_text(self.abstract),
            action=clean_text(self.action),
            citation=without_placeholder(self.citation),
            start_page=self.start_page,
            end_page=self.end_page,
            cfr_parts=tuple(ref.label for ref in self.cfr_references if ref.label),
            html_url=self.html_url,
            pdf_url=self.pdf_url,
            public_inspection_pdf_url=self.public_inspection_pdf_url,
            full_text_xml_url=self.full_text_xml_url,
            raw_text_url=self.raw_text_url,
            filed_at=filed_at_from_pdf_url(self.public_inspection_pdf_url, published=self.publication_date),
            publication_date=self.publication_date,
            effective_on=self.effective_on,
        )


class FrSearchPage(_Record):
    """A search page; ``results`` and ``total_pages`` are absent when nothing matched."""

    count: int = 0
    description: str | None = None
    total_pages: int | None = None
    next_page_url: str | None = None
    results: list[FrDocumentRecord] = Field(default_factory=list)


class PiDocumentRecord(_Record):
    """One public-inspection filing: filed, not yet published."""

    document_number: str
    title: str | None = None
    type: str | None = None
    filing_type: str | None = None
    filed_at: datetime | None = None
    publication_date: date | None = None
    editorial_note: str | None = None
    subject_1: str | None = None
    subject_2: str | None = None
    subject_3: str | None = None
    toc_doc: str | None = None
    toc_subject: str | None = None
    html_url: str | None = None
    pdf_url: str | None = None
    raw_text_url: str | None = None
    docket_numbers: list[str] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)

    @field_validator("document_number")
    @classmethod
    def _number(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("empty document_number")
        return value

    @field_validator("filed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # never guess a zone: the API always sends an offset, so this is garbage
            raise ValueError(f"filed_at without a UTC offset: {value.isoformat()}")
        return value.astimezone(UTC)

    @property
    def is_bis(self) -> bool:
        return any(agency.is_bis for agency in self.agencies)

    @property
    def withdrawn(self) -> bool:
        return bool(self.editorial_note) and "withdraw" in (self.editorial_note or "").lower()

    @property
    def subjects(self) -> tuple[str, ...]:
        """Every text the PI record offers for classification (its title is only a ToC subject)."""
        values = (self.title, self.subject_1, self.subject_2, self.subject_3, self.toc_doc, self.toc_subject)
        return tuple(dict.fromkeys(v for v in (clean_text(x) for x in values) if v))

    def to_document(self) -> RegulatoryDocument:
        return RegulatoryDocument(
            document_number=self.document_number,
            source=FeedName.PUBLIC_INSPECTION,
            title=clean_text(self.title) or clean_text(self.toc_doc) or f"Public inspection {self.document_number}",
            document_type=self.type,
            agencies=tuple(dict.fromkeys(agency.key for agency in self.agencies)),
            public_inspection_pdf_url=self.pdf_url,
            html_url=self.html_url,
            filed_at=self.filed_at,
            filing_type=clean_text(self.filing_type),
            publication_date=self.publication_date,
        )


class PiStamps(_Record):
    """The two ``*_updated_at`` fields of a public-inspection issue: the cheap part that says whether it changed."""

    special_filings_updated_at: datetime | None = None
    regular_filings_updated_at: datetime | None = None

    @property
    def cursor(self) -> dict[str, str | None]:
        def iso(value: datetime | None) -> str | None:
            return value.astimezone(UTC).isoformat() if value is not None else None

        return {
            "special_filings_updated_at": iso(self.special_filings_updated_at),
            "regular_filings_updated_at": iso(self.regular_filings_updated_at),
        }

    def same_as(self, cursor: Mapping[str, Any]) -> bool:
        """Both stamps present and equal to the stored ones (a null stamp never proves the issue unchanged)."""
        mine = self.cursor
        return all(mine.values()) and all(cursor.get(key) == value for key, value in mine.items())


class PiIssue(PiStamps):
    """``current.json`` or one day's issue: not paginated, and both ``*_updated_at`` may be null or absent."""

    count: int = 0
    results: list[PiDocumentRecord] = Field(default_factory=list)

    def unique_results(self) -> list[PiDocumentRecord]:
        """Deduplicated on document_number: a 16:15 special filing reappears in the next day's issue."""
        seen: dict[str, PiDocumentRecord] = {}
        for record in self.results:
            seen.setdefault(record.document_number, record)
        return list(seen.values())


def parse_model(model: type[M], payload: Any, *, what: str, url: str | None = None) -> M:
    """Validate a decoded payload; a shape we do not understand is a feed failure, reported in one line."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise FeedUnavailable(f"{what}: unexpected response shape at {where}: {first['msg']}", url=url) from None


_PDF_EPOCH = re.compile(r"\?(\d{9,11})(?:$|&)")
# How long before its publication a filing can have been on public inspection and still be believed. Real leads
# are a business day or two (2019-22210: 2 days; 2025-05887: 3 days; the October 2022 rule: 6 days); an epoch
# further back is a stale cache-buster, not a filing time, and would date a new rule into the past.
PI_LEAD_LIMIT = timedelta(days=14)
# The daily issue goes online at 06:00 Eastern on its publication date; a filing is always earlier.
_PUBLICATION_TIME = time(6, 0)


def filed_at_from_pdf_url(url: str | None, *, published: date | None = None) -> datetime | None:
    """The PI posting time hidden in ``public_inspection_pdf_url?<epoch>`` (e.g. ?1570479300 = 2019-10-07 16:15 ET).

    The epoch is only a cache-buster that usually equals the posting time, so with the ``published`` date it is
    believed only within ``PI_LEAD_LIMIT`` before the issue went online; a stale or later one is no signal."""
    if not url:
        return None
    match = _PDF_EPOCH.search(url)
    if match is None:
        return None
    moment = datetime.fromtimestamp(int(match.group(1)), tz=UTC)
    if published is not None:
        online = datetime.combine(published, _PUBLICATION_TIME, tzinfo=NEW_YORK).astimezone(UTC)
        if not online - PI_LEAD_LIMIT <= moment <= online:
            return None
    return moment
