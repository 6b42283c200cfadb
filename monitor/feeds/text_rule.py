"""A rule's Entity List amendments from its plain text, in whichever layout the source produced.

The text at public-inspection time is all a trader has for days: the Federal Register's rendering of a published
document (fixed-width columns under a dashed header), the PI raw text (``pdftotext`` of the PI PDF in reading
order, cleaned by the Federal Register), or text someone extracted from the PDF keeping its layout. This module
normalizes the rendering's conventions (``--`` for an em dash, ````X''`` for quotes), finds the amendatory
instructions and the tables, and reads them with the rules the XML path uses (``supplement``). Tables drawn as
columns go to ``text_table``; tables flattened cell after cell go to ``text_flow``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.errors import FeedParseError
from monitor.feeds.schedule import parse_frdoc_line
from monitor.feeds.supplement import Context, Extraction, Heading, Instruction, Part, merge_duplicates, read_parts
from monitor.feeds.text_flow import find_flow_tables
from monitor.feeds.text_table import find_tables, join_wrapped
from monitor.models import FeedName

MAX_TEXT_CHARS = 8 * 1024 * 1024
_QUOTES = (("``", "“"), ("''", "”"))
_AMENDED = re.compile(r"\bamended\b|\bby\s+(?:adding|revising|removing)\b", re.IGNORECASE)


def normalize_rendering(text: str) -> str:
    """The text renderings' typewriter conventions back to the characters the XML has."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for old, new in _QUOTES:
        text = text.replace(old, new)
    return text


def extract_from_rule_text(
    text: str, *, document_number: str | None = None, source: FeedName = FeedName.DOCUMENTS
) -> Extraction:
    """Listing actions from a rule's table in its text; ``FeedParseError`` when the text holds no such table."""
    if len(text) > MAX_TEXT_CHARS:
        raise FeedParseError(
            f"text is {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit", document_number=document_number
        )
    lines = normalize_rendering(text).split("\n")
    spans = [(t.first_line, t.last_line, t.table) for t in find_tables(lines)]
    method = "table-text"
    if not spans:
        spans = [(t.first_line, t.last_line, t.table) for t in find_flow_tables(lines)]
        method = "table-flow"
    if not spans:
        raise FeedParseError(
            "text has no Supplement No. 4 table (no Country/Entity heading)", document_number=document_number
        )
    parts: list[Part] = []
    cursor = 0
    for first, last, table in spans:
        parts.extend(_prose_parts(lines[cursor:first]))
        parts.append(table)
        cursor = last
    context = Context(source=source)
    read_parts(parts, context)
    if not context.actions:
        raise FeedParseError("the text's Entity List table has no entries", document_number=document_number)
    filing = parse_frdoc_line(text)
    return Extraction(
        actions=merge_duplicates(context.actions),
        method=method,
        warnings=tuple(context.warnings),
        frdoc_number=filing[0] if filing else None,
        filed_at=filing[1] if filing else None,
    )


_INSTRUCTION = re.compile(
    r"(?:\b\d+\.\s+)?(?:Supplement\s+No\.\s*\d+\s+to\s+[Pp]art\s+744|Section\s+\d+\.\d+|The\s+authority\s+citation)"
    r"(?:(?!Supplement\s+No\.\s*\d+\s+to\s+Part\s+744\s*(?:—|--|-)).){0,4000}?"
    r"(?::|\.(?=\s+(?:\d+\.\s|[A-Z])|\s*$))",
    re.DOTALL,
)
_HEADING = re.compile(r"Supplement\s+No\.\s*\d+\s+to\s+Part\s+744\s*(?:—|--|-)\s*[A-Z][\w ]{0,40}")


def _prose_parts(lines: Sequence[str]) -> list[Part]:
    """Instructions and headings among the lines between tables, in order. Reading-order text has no
    paragraph breaks to trust, so each is found as a sentence: an instruction runs from "Supplement No. 4 to
    part 744 is amended" (or a numbered "Section …" / "The authority citation …") to its colon or full stop."""
    text = join_wrapped([line for line in lines if line.strip() and line.strip() != "\f"])
    found: list[tuple[int, Part]] = []
    for match in _INSTRUCTION.finditer(text):
        sentence = match.group(0)
        if _AMENDED.search(sentence) or sentence.lstrip()[:1].isdigit():
            found.append((match.start(), Instruction(sentence)))
    for match in _HEADING.finditer(text):
        if not any(start <= match.start() < start + len(getattr(part, "text", "")) for start, part in found):
            found.append((match.start(), Heading(match.group(0))))
    return [part for _, part in sorted(found, key=lambda item: item[0])]
