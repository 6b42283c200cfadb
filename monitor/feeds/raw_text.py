"""The raw-text fallback: entity names from a rule's prose when its XML is missing or broken.

BIS rules name every entry in the preamble ("This final rule adds the following twenty-eight entities to the
Entity List under China: A; B; …; and Z."), and that prose is also in the public-inspection text, days before
any XML exists. The table itself, rendered as wrapped fixed-width columns, is not parsed: names, action and
destination are what a trader needs first; aliases and addresses follow when the XML arrives.
"""

from __future__ import annotations

import re

from monitor.errors import FeedParseError
from monitor.feeds.amendments import clean_name, number_from_words
from monitor.feeds.countries import country_iso
from monitor.feeds.entity_list import Extraction
from monitor.feeds.schedule import parse_frdoc_line
from monitor.models import ActionKind, FeedName, ListingAction

MAX_TEXT_CHARS = 8 * 1024 * 1024
_SENTENCE = re.compile(
    r"\b(?P<verb>adds|adding|add|removes|removing|remove|revises|revising|revise|modifies|modifying|modify)\s+"
    r"(?:the\s+following\s+)?(?:(?P<count>[\w-]+)\s+)?(?:[A-Z][\w'-]*\s+)?"
    r"(?P<noun>entities|entity|entries|entry|persons|person|addresses|address)\s+"
    r"(?:(?:to|from|on)\s+the\s+Entity\s+List)"
    r"(?:\s*,?\s*under\s+(?:the\s+destination(?:s)?\s+of\s+)?(?P<country>[^:\n]{1,80}?))?\s*:\s*"
    r"(?P<list>[^\n]+)",
    re.IGNORECASE,
)
_KIND = {"add": ActionKind.ADD, "rem": ActionKind.REMOVE, "rev": ActionKind.REVISE, "mod": ActionKind.REVISE}
_PARENTHETICAL_COUNTRY = re.compile(r"^(?P<country>[A-Z][\w' ,.-]{1,60})\s*\(?\s*$")


def extract_from_text(
    text: str, *, document_number: str | None = None, source: FeedName = FeedName.DOCUMENTS
) -> Extraction:
    """Listing actions (names, action, destination) from plain text; ``FeedParseError`` when none are found."""
    if len(text) > MAX_TEXT_CHARS:
        raise FeedParseError(
            f"raw text is {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit", document_number=document_number
        )
    paragraphs = _paragraphs(text)
    actions: list[ListingAction] = []
    warnings: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for paragraph in paragraphs:
        for match in _SENTENCE.finditer(paragraph):
            kind = _KIND[match.group("verb")[:3].lower()]
            country = _country(match.group("country"))
            names = split_name_list(match.group("list"))
            expected = number_from_words(match.group("count") or "")
            if expected is not None and names and expected != len(names):
                warnings.append(f"text says {expected} entries to {kind}, the list names {len(names)}")
            for name in names:
                key = (kind.value, country or "", name)
                if key in seen:
                    continue
                seen.add(key)
                actions.append(
                    ListingAction(
                        action=kind, entity_name=name, country=country, country_iso=country_iso(country), source=source
                    )
                )
    if not actions:
        raise FeedParseError(
            "raw text names no Entity List entries (no 'adds/removes/revises the following … entities … "
            "Entity List …: names' sentence)",
            document_number=document_number,
        )
    filing = parse_frdoc_line(text)
    return Extraction(
        actions=tuple(actions),
        method="text",
        warnings=tuple(warnings),
        frdoc_number=filing[0] if filing else None,
        filed_at=filing[1] if filing else None,
    )


def _paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs; single line breaks inside one are wrapping."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n\s*\n", text)
    return [" ".join(block.split()) for block in blocks if block.strip()]


def _country(raw: str | None) -> str | None:
    if not raw:
        return None
    country = raw.strip(" ,.;")
    country = re.sub(r"\s*\(.*?\)\s*$", "", country)  # "China (PRC)" → "China"
    return country or None


def split_name_list(raw: str) -> list[str]:
    """ "A; B; and C." → [A, B, C]. Names hold commas ("Co., Ltd."), so semicolons separate a long list; a
    short one may read "A and B" or "A, B, and C", split on commas only when no name has a legal-form comma."""
    parts = raw.split(";") if ";" in raw else [raw]
    parts[-1] = _without_full_stop(_cut_at_sentence_end(parts[-1]).strip())
    if len(parts) == 1:
        only = parts[0]
        if _LEGAL_COMMA.search(only):
            parts = [only]
        elif "," in only:
            parts = re.split(r",\s*", only)
        elif only.count(" and ") == 1:
            parts = only.split(" and ")
    names: list[str] = []
    for part in parts:
        name = clean_name(re.sub(r"^\s*and\s+", "", part.strip()))
        if name and len(name) <= 300:
            names.append(name)
    return names


_LEGAL_COMMA = re.compile(r",\s*(?:Ltd|Inc|LLC|L\.L\.C|S\.A|GmbH|JSC|Limited)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")
_ABBREVIATIONS = frozenset({"co", "st", "no", "mr", "dr", "jr", "sr", "u.s", "s.a"})


_LEGAL_ABBREVIATIONS = frozenset({"co", "ltd", "inc", "corp", "llc", "l.l.c", "s.a", "s.a.s", "b.v", "n.v", "s.r.l"})


def _without_full_stop(text: str) -> str:
    """The sentence's full stop is not part of the last name, unless that name ends in "Ltd." and the like
    (the Federal Register then doubles it: "Co. Ltd..")."""
    if text.endswith(".."):
        return text[:-1]
    if text.endswith(".") and text[:-1].rsplit(" ", 1)[-1].lower() not in _LEGAL_ABBREVIATIONS:
        return text[:-1]
    return text


def _cut_at_sentence_end(text: str) -> str:
    """The last list item runs to the end of its sentence, not of the paragraph."""
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()].rsplit(" ", 1)[-1].lower()
        if before not in _ABBREVIATIONS and len(before) > 1:
            return text[: match.start() + 1]
    return text
