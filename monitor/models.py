"""Domain vocabulary shared by every part: immutable pydantic types that cross module boundaries.

Hot paths (the study engine, the matcher's index) use plain dataclasses or numpy arrays internally and convert
at their edges. Timestamps are timezone-aware UTC everywhere.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Relation(StrEnum):
    """How a security relates to a listed entity: the security's role towards the entity."""

    DIRECT = "direct"  # the entity is the listed issuer
    PARENT = "parent"  # the entity is the listed company's controlling parent
    SUBSIDIARY = "subsidiary"  # the entity is a subsidiary of the listed company
    SUPPLIER = "supplier"  # the security sells to the entity
    CUSTOMER = "customer"  # the security buys from the entity
    COMPETITOR = "competitor"  # the security competes with the entity
    NAMED = "named in the text"  # the rule's text names the issuer, but no parsed entity explains it (a spot)


class ActionKind(StrEnum):
    ADD = "add"
    REVISE = "revise"
    REMOVE = "remove"


class FeedName(StrEnum):
    DOCUMENTS = "fr"  # Federal Register documents search (published rules)
    PUBLIC_INSPECTION = "pi"  # public inspection: filed, not yet published
    CSL = "csl"  # Consolidated Screening List bulk file


class ParseStatus(StrEnum):
    PENDING = "pending"  # not parsed yet (no XML available so far)
    PARSED = "parsed"  # listing actions extracted from the XML
    TEXT_FALLBACK = "text_fallback"  # extracted from the raw text because the XML was missing or broken
    FAILED = "failed"  # nothing could be extracted; stored with its error and still alerted
    NOT_APPLICABLE = "not_applicable"  # not an Entity List action


class AnnouncementSource(StrEnum):
    """Which signal dated an event; the earliest trustworthy one wins."""

    OVERRIDE = "override"  # an operator-supplied announcement time (e.g. a press release before filing)
    PI_FILED_AT = "pi_filed_at"  # the public-inspection filing time
    FIRST_SEEN = "first_seen"  # when our poller first saw the filing (filed_at unknown)
    PUBLICATION = "publication"  # the Federal Register publication date at its publication time
    CSL = "csl"  # first seen on the Consolidated Screening List with no document behind it


class AlertStage(StrEnum):
    DETECTED = "detected"
    DAY0 = "day0"
    DAY1 = "day1"
    DAY5 = "day5"
    WINDOW_CLOSED = "window_closed"
    ENTITIES = "entities"  # the card's first thread reply: the rule's full entity list and any securities cut
    RECONCILED = "reconciled"  # the published rule compared with what the public-inspection card said
    OPERATOR = "operator"  # an alert about the monitor itself (a delivery went dead), not about an event


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; a crash here is resolved by checking the sink before resending
    SENT = "sent"
    DEAD = "dead"


class ListingStatus(StrEnum):
    """Whether a security traded on a given day: a match to one that did not is no hit for that day's event."""

    LISTED = "listed"  # listed on the day (or its listing dates are unknown, which counts as listed)
    LISTED_LATER = "listed_later"  # first traded after the day (SenseTime, listed 2021-12-30, for a 2019 rule)
    DELISTED = "delisted"  # stopped trading on or before the day


class StudyStatus(StrEnum):
    """What a security's study is; every word but ``complete`` keeps it out of the event's aggregates (a window
    that is not complete enters only when asked, and then flagged)."""

    PENDING = "pending"  # day 0 has not closed yet, or its prices are not in
    PARTIAL = "partial"  # the window is not over yet: some of its sessions are still to come
    HALTED = "halted"  # the window is not complete because the security is halted while its market trades
    COMPLETE = "complete"  # every return the window needs is in
    BAD_PRICE = "bad_price"  # a return in the window is beyond the exchange's limit or the bound: data not trusted
    BENCHMARK_GAP = "benchmark_gap"  # the window cannot be completed because the benchmark has no bars
    DELISTED = "delisted"  # no bars after a date (or a known delisting) before the window's end
    LISTED_LATER = "listed_later"  # listed after day 0: it could not react
    INSUFFICIENT_DATA = "insufficient_data"  # too few estimation returns, or no prices at all
    ERROR = "error"

    @property
    def incomplete(self) -> bool:
        """A window still running (or waiting on a halt): usable only when partial windows are asked for."""
        return self in (StudyStatus.PARTIAL, StudyStatus.HALTED)


# Studies still expected to change: updated on every scheduled run until they settle.
OPEN_STUDY_STATUSES: tuple[StudyStatus, ...] = (StudyStatus.PENDING, StudyStatus.PARTIAL, StudyStatus.HALTED)
# Studies that may change when the data is corrected: retried like missing data, for recent events only.
RETRY_STUDY_STATUSES: tuple[StudyStatus, ...] = (
    StudyStatus.INSUFFICIENT_DATA,
    StudyStatus.ERROR,
    StudyStatus.BAD_PRICE,
    StudyStatus.BENCHMARK_GAP,
)
# Studies with a measured reaction to show (an incomplete window is shown flagged, and kept out of the tests).
MEASURED_STUDY_STATUSES: tuple[StudyStatus, ...] = (StudyStatus.COMPLETE, StudyStatus.PARTIAL, StudyStatus.HALTED)


class DayStatus(StrEnum):
    """What happened to a security on one session of its exchange (the ``status`` of a study day)."""

    TRADED = "traded"
    HALTED = "halted"  # an expected session with no trade of the security while its market traded
    NO_DATA = "no_data"  # before its first bar or after its data ends
    BAD_PRICE = "bad_price"  # a bar with a zero, negative or missing close, or a lone spike
    SUSPECT = "suspect"  # traded, but the return ending here is beyond the exchange's limit or the bound
    BENCHMARK_GAP = "benchmark_gap"  # the security traded but its benchmark has no bar: the pair is lumped

    @classmethod
    def code(cls, status: DayStatus) -> int:
        """The int8 code used in arrays: the order above (and ``monitor.prices.returns``' codes)."""
        return DAY_STATUSES.index(status)


DAY_STATUSES: tuple[DayStatus, ...] = tuple(DayStatus)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegulatoryDocument(_Frozen):
    """One Federal Register document (or CSL pseudo-document), merged across the feeds that reported it."""

    document_number: str
    source: FeedName
    title: str
    document_type: str | None = None
    agencies: tuple[str, ...] = ()  # agency slugs, e.g. industry-and-security-bureau
    abstract: str | None = None
    action: str | None = None
    citation: str | None = None
    start_page: int | None = None  # Federal Register pages the document spans, once published
    end_page: int | None = None
    cfr_parts: tuple[str, ...] = ()  # "15 CFR 744"
    html_url: str | None = None
    pdf_url: str | None = None
    public_inspection_pdf_url: str | None = None
    full_text_xml_url: str | None = None
    raw_text_url: str | None = None
    filed_at: AwareDatetime | None = None
    filing_type: str | None = None  # "regular" | "special" (public inspection)
    publication_date: date | None = None
    effective_on: date | None = None


class ListingAction(_Frozen):
    """One row of Supplement No. 4 to Part 744 that a rule adds, revises or removes."""

    action: ActionKind
    entity_name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None
    country_iso: str | None = None
    addresses: tuple[str, ...] = ()
    license_requirement: str | None = None
    license_review_policy: str | None = None
    federal_register_citation: str | None = None
    source: FeedName = FeedName.DOCUMENTS


class Security(_Frozen):
    """A listing in the universe; ``symbol`` is Yahoo-style (AMBA, 002415.SZ, 0981.HK)."""

    symbol: str
    issuer_name: str
    aliases: tuple[str, ...] = ()
    exchange_mic: str
    country: str
    currency: str
    benchmark: str
    listed_on: date | None = None  # first trading day, when known
    delisted_on: date | None = None  # first day it no longer traded, when delisted
    isin: str | None = None  # ISO 6166, when a list gives it: how GLEIF's ISIN-to-LEI records reach the listing

    def listing_status(self, day: date) -> ListingStatus:
        """Listed, listed later or delisted on ``day``; unknown dates count as listed (nothing to say otherwise)."""
        if self.listed_on is not None and day < self.listed_on:
            return ListingStatus.LISTED_LATER
        if self.delisted_on is not None and day >= self.delisted_on:
            return ListingStatus.DELISTED
        return ListingStatus.LISTED


class Match(_Frozen):
    """An explainable link from a listing action to a security."""

    symbol: str
    issuer: str
    relation: Relation
    score: float = Field(ge=0, le=1)
    confirmed: bool  # True for an auto-match, False for the review band
    reason: str  # readable by a trader: "entity alias 'Hikvision' = issuer alias 'Hikvision'"
    method: str = "name"
    entity_name: str = ""
    weight: float | None = None  # revenue weight for exposures, when known
    features: dict[str, str | float] = Field(default_factory=dict)
