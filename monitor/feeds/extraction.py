"""The fallback chain for one document: XML, else raw text, else a stored error. A pure decision, no I/O.

A trader must never miss a rule because a parser choked, so every path ends in an outcome the pipeline can
alert on: ``parsed`` (from XML), ``text_fallback`` (names from the prose), ``pending`` (nothing usable yet, but
more may come: a public-inspection filing has no XML until publication) or ``failed`` (stored with its error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.errors import FeedParseError
from monitor.feeds.entity_list import Extraction, extract_from_xml
from monitor.feeds.raw_text import extract_from_text
from monitor.feeds.safe_xml import DEFAULT_MAX_BYTES
from monitor.feeds.text_rule import extract_from_rule_text
from monitor.models import FeedName, ListingAction, ParseStatus

# How good an outcome is: a better one replaces stored listing actions, a worse one never does.
STATUS_RANK: dict[ParseStatus, int] = {
    ParseStatus.NOT_APPLICABLE: 0,
    ParseStatus.PENDING: 1,
    ParseStatus.FAILED: 1,
    ParseStatus.TEXT_FALLBACK: 2,
    ParseStatus.PARSED: 3,
}


@dataclass(frozen=True)
class ExtractionOutcome:
    status: ParseStatus
    actions: tuple[ListingAction, ...] = ()
    error: str | None = None  # why the better methods failed; kept even when a fallback succeeded
    warnings: tuple[str, ...] = ()
    filed_at: datetime | None = None
    method: str | None = None
    text: str | None = None  # the public-inspection text read, kept so the pipeline can spot names in it


def extract_listing_actions(
    *,
    xml: bytes | None,
    text: str | None,
    document_number: str | None = None,
    source: FeedName = FeedName.DOCUMENTS,
    xml_problem: str | None = None,
    text_problem: str | None = None,
    final: bool = True,
    max_xml_bytes: int = DEFAULT_MAX_BYTES,
) -> ExtractionOutcome:
    """Run the chain. ``*_problem`` explains why an input is missing (e.g. the fetch failed); ``final`` says
    whether a failure is definitive (``failed``) or may still be cured by a later fetch (``pending``)."""
    problems: list[str] = []
    if xml is not None:
        try:
            return _outcome(
                ParseStatus.PARSED,
                extract_from_xml(xml, document_number=document_number, source=source, max_bytes=max_xml_bytes),
            )
        except FeedParseError as exc:
            problems.append(f"XML: {_without_number(exc, document_number)}")
    else:
        problems.append(f"XML: {xml_problem or 'not available'}")
    if text is not None:
        try:
            extraction = extract_text(text, document_number=document_number, source=source)
        except FeedParseError as exc:
            problems.append(f"text: {_without_number(exc, document_number)}")
        else:
            return _outcome(ParseStatus.TEXT_FALLBACK, extraction, error="; ".join(problems))
    else:
        problems.append(f"text: {text_problem or 'not available'}")
    return ExtractionOutcome(status=ParseStatus.FAILED if final else ParseStatus.PENDING, error="; ".join(problems))


def extract_text(text: str, *, document_number: str | None = None, source: FeedName = FeedName.DOCUMENTS) -> Extraction:
    """A rule's text: its Supplement No. 4 table in whatever layout (names, aliases, actions, destination), else
    the preamble's "adds the following … entities …: A; B; C" sentence (names only)."""
    try:
        return extract_from_rule_text(text, document_number=document_number, source=source)
    except FeedParseError as table_error:
        try:
            return extract_from_text(text, document_number=document_number, source=source)
        except FeedParseError as prose_error:
            raise FeedParseError(
                f"{_without_number(prose_error, document_number)}; and {_without_number(table_error, document_number)}",
                document_number=document_number,
            ) from None


def _outcome(status: ParseStatus, extraction: Extraction, error: str | None = None) -> ExtractionOutcome:
    return ExtractionOutcome(
        status=status,
        actions=extraction.actions,
        error=error or None,
        warnings=extraction.warnings,
        filed_at=extraction.filed_at,
        method=extraction.method,
    )


def _without_number(exc: FeedParseError, document_number: str | None) -> str:
    message = str(exc)
    prefix = f"{document_number}: "
    return message[len(prefix) :] if document_number and message.startswith(prefix) else message
