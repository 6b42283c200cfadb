"""Parsing XML we did not write: no network, no DTD, no entity expansion, bounded size and depth.

Rule XML comes from the network (or a directory someone saved), so it is untrusted. lxml is configured so that
nothing is fetched and nothing is expanded; a document that declares entities at all is refused before lxml
sees it (the defusedxml stance: no Federal Register XML needs them), so "billion laughs" and external-entity
tricks fail fast with a clear message instead of hanging or reading local files.
"""

from __future__ import annotations

import re

from lxml import etree

from monitor.errors import FeedParseError

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 200  # real FR rule XML nests < 15 deep; libxml2's own guard (256) also applies without huge_tree
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def parse_untrusted_xml(
    data: bytes | str, *, what: str = "XML", max_bytes: int = DEFAULT_MAX_BYTES, document_number: str | None = None
) -> etree._Element:
    """The root element, or ``FeedParseError`` naming ``what`` and the problem; never hangs, never fetches."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise FeedParseError(
            f"{what} is {len(raw):,} bytes, over the {max_bytes:,}-byte limit for untrusted XML",
            document_number=document_number,
        )
    if not raw.strip():
        raise FeedParseError(f"{what} is empty", document_number=document_number)
    if _ENTITY_DECLARATION.search(raw):
        raise FeedParseError(
            f"{what} declares XML entities (<!ENTITY>); refused as untrusted input "
            "(entity expansion and external entities are never processed)",
            document_number=document_number,
        )
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        message = " ".join(str(exc).split()) or "malformed"
        raise FeedParseError(
            f"{what} is not well-formed XML: {message[:200]}", document_number=document_number
        ) from None
    except (ValueError, etree.LxmlError) as exc:
        raise FeedParseError(f"{what} cannot be parsed: {exc}", document_number=document_number) from None
    if root is None:
        raise FeedParseError(f"{what} has no root element", document_number=document_number)
    _check_depth(root, what=what, document_number=document_number)
    return root


def _check_depth(root: etree._Element, *, what: str, document_number: str | None) -> None:
    """Iterative (never recursive) walk, so a deep tree cannot exhaust our stack either."""
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FeedParseError(
                f"{what} nests elements more than {MAX_DEPTH} deep; refused as untrusted input",
                document_number=document_number,
            )
        stack.extend((child, depth + 1) for child in element)
