"""Entity List rule XML → listing actions (Supplement No. 4 to part 744: add, revise, remove).

Reads only ``<REGTEXT PART="744">``: its ``<AMDPAR>``, ``<HD>`` and ``<GPOTABLE>`` elements become the parts that
``supplement`` reads (each instruction says what the following table does, each table row is one entry). Country
cells are carried down ("same as above" when blank); star rows, country-only rows, ``[Reserved]`` rows and
``<PRTPAGE>`` markers are skipped. Removed entries named only in the instruction still become actions.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from monitor.errors import FeedParseError
from monitor.feeds.gpotable import element_text, read_table
from monitor.feeds.safe_xml import DEFAULT_MAX_BYTES, parse_untrusted_xml
from monitor.feeds.schedule import parse_frdoc_line
from monitor.feeds.supplement import (
    Context,
    Extraction,
    Heading,
    Instruction,
    Part,
    merge_duplicates,
    parse_entity_cell,
    read_parts,
)
from monitor.models import FeedName

__all__ = ["Extraction", "extract_from_xml", "parse_entity_cell"]


def extract_from_xml(
    data: bytes | str,
    *,
    document_number: str | None = None,
    source: FeedName = FeedName.DOCUMENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Extraction:
    """Listing actions of a rule's full-text XML; ``FeedParseError`` if it is hostile, broken or has none."""
    root = parse_untrusted_xml(data, what="rule XML", max_bytes=max_bytes, document_number=document_number)
    context = Context(source=source)
    found_instruction = False
    for regtext in root.iter("REGTEXT"):
        if "744" not in (regtext.get("PART") or "").replace(" ", "").split(","):
            continue
        found_instruction |= read_parts(_parts(regtext), context)
    if not context.actions:
        why = "its Entity List instructions name no entries" if found_instruction else "no Entity List amendment"
        raise FeedParseError(
            f'rule XML has {why} (no <REGTEXT PART="744"> rows or instructions for Supplement No. 4)',
            document_number=document_number,
        )
    subject = root.find(".//PREAMB/SUBJECT")
    frdoc = root.find(".//FRDOC")
    filing = parse_frdoc_line(element_text(frdoc)) if frdoc is not None else None
    return Extraction(
        actions=merge_duplicates(context.actions),
        method="xml",
        warnings=tuple(context.warnings),
        title=element_text(subject) if subject is not None else None,
        frdoc_number=filing[0] if filing else None,
        filed_at=filing[1] if filing else None,
    )


def _parts(regtext: etree._Element) -> Iterator[Part]:
    """One REGTEXT in document order, as the parts every front end produces."""
    for child in regtext.iter("AMDPAR", "HD", "GPOTABLE"):
        if child.tag == "AMDPAR":
            yield Instruction(element_text(child))
        elif child.tag == "HD":
            yield Heading(element_text(child))
        else:
            yield read_table(child)
