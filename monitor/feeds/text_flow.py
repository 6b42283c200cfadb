"""Supplement No. 4 tables flattened cell after cell: text extracted from the PI PDF in reading order.

The Federal Register's public-inspection raw text is ``pdftotext -enc UTF-8`` of the PI PDF without ``-layout``,
with runs of dashes, dots and underscores, ``|`` and page numbers removed (federalregister-api-core,
``PublicInspectionDocumentFileImporter#extract_text``); pypdf gives the same order. A ruled table then comes out
one cell after another, row by row: the headings, then each row's country (on a group's first row), entity,
licence requirement, licence review policy and citation. No column positions survive, so cells are told apart
by what opens each column in every Entity List rule: the requirement cell opens "For all items …", the policy
cell "Presumption of denial …" / "Case-by-case …" / "See § …", the citation cell "84 FR …" or
"[INSERT FR PAGE NUMBER]"; the country is a destination heading in capitals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.feeds.countries import country_iso
from monitor.feeds.gpotable import Cell, Row, Table
from monitor.feeds.text_table import HEADINGS, TextTable, join_wrapped, paragraphs_by_content

_HEADING_WORDS = re.compile(
    r"^(?:country|entity|licen[sc]e|requirements?|review|policy|federal|register|citations?|fr)"
    r"(?:\s+(?:licen[sc]e|requirements?|review|policy|federal|register|citations?))*\.?$",
    re.IGNORECASE,
)
_REQUIREMENT = re.compile(r"^(?:For\s+all\s+items|All\s+items|For\s+items|Items\s+subject|For\s+ECCNs?)", re.I)
_POLICY = re.compile(r"^(?:Presumption\s+of|Case[-\s]by[-\s]case|Policy\s+of|Approval|See\s+(?:§|Sec\.))", re.I)
_CITATION = re.compile(r"^(?:\d+\s+FR\s|\[INSERT|\d+\s+F\.R\.)", re.I)
_CITATION_MORE = re.compile(
    r"^(?:\d+\s+FR\b|\[?INSERT\b|[\d/,.;\s]+$|[A-Z\s\]\[,.]+\]\.?,?$|\d{1,2}/\d{1,2}/\d{2,4}|FR\s+\d)"
)
_STARS = re.compile(r"^[\s*]*\*[\s*]*$")
_PAGE = re.compile(r"^\s*(?:\d{1,4}|\f|\[\[Page \d+\]\])\s*$")
_END = re.compile(r"^\s*(?:\[FR\s+Doc|BILLING\s+CODE|Dated:)")
_COUNTRY_LINE = re.compile(r"^[A-Z][A-Z'’,.()\s-]*$")


@dataclass
class _Draft:
    cells: list[list[str]] = field(default_factory=lambda: [[], [], [], [], []])
    column: int = 1

    @property
    def empty(self) -> bool:
        return not any(self.cells)


def find_flow_tables(lines: Sequence[str]) -> list[TextTable]:
    """Every Supplement No. 4 table in ``lines`` whose cells follow one another (no column positions)."""
    tables: list[TextTable] = []
    index = 0
    while index < len(lines):
        end_of_headings = _headings_at(lines, index)
        if end_of_headings is None:
            index += 1
            continue
        stop = end_of_headings
        while stop < len(lines) and not _END.match(lines[stop]):
            stop += 1
        rows = _rows(lines[end_of_headings:stop])
        if rows:
            tables.append(TextTable(index, stop, Table(headers=HEADINGS, rows=tuple(rows))))
        index = max(stop, index + 1)
    return tables


def _headings_at(lines: Sequence[str], index: int) -> int | None:
    """The line after the five headings if they start at ``index`` (each on a line or two), else None."""
    seen = ""
    cursor = index
    while cursor < len(lines) and cursor - index < 14:
        line = lines[cursor].strip()
        cursor += 1
        if not line:
            continue
        if not _HEADING_WORDS.match(line):
            break
        seen += " " + line.lower()
        if "citation" in seen:
            return cursor if seen.strip().startswith("country") and "entity" in seen else None
    return None


def _rows(lines: Sequence[str]) -> list[Row]:
    rows: list[Row] = []
    draft = _Draft()

    def close() -> None:
        nonlocal draft
        if not draft.empty:
            _split_country(draft)
            rows.append(Row(tuple(_cell(column, index) for index, column in enumerate(draft.cells))))
        draft = _Draft()

    index = 0
    while index < len(lines):
        raw = lines[index]
        line = raw.strip()
        index += 1
        if not line or _PAGE.match(raw):
            continue
        after_headings = _headings_at(lines, index - 1)
        if after_headings is not None:  # the headings repeated at the top of a new page
            index = after_headings
            continue
        if _STARS.match(line):
            close()
            continue
        column = _column_of(line, draft)
        if column < draft.column:
            close()
        draft.column = column
        draft.cells[column].append(line)
    close()
    return rows


def _column_of(line: str, draft: _Draft) -> int:
    """Which cell ``line`` belongs to, given where the row has got to (a lower column starts the next row)."""
    current = draft.column
    if current == 4:
        joined = " ".join(draft.cells[4])
        return 4 if joined.count("[") > joined.count("]") or _CITATION_MORE.match(line) else 1
    if current == 1 and _REQUIREMENT.match(line) and draft.cells[1]:
        return 2
    if current == 2 and _POLICY.match(line):
        return 3
    if current in (2, 3) and _CITATION.match(line):
        return 4
    return current


def _split_country(draft: _Draft) -> None:
    """The destination heading opening a group's first row ("CHINA, PEOPLE'S" / "REPUBLIC OF"), moved from the
    entity lines to the country cell: the longest run of capitals that names a destination."""
    lines = draft.cells[1]
    best = 0
    for count in range(1, min(len(lines), 6) + 1):
        if not _COUNTRY_LINE.match(lines[count - 1]):
            break
        if country_iso(" ".join(lines[:count]).strip(" ,.")):
            best = count
    if best:
        draft.cells[0] = lines[:best]
        draft.cells[1] = lines[best:]


def _cell(lines: list[str], column: int) -> Cell:
    if not lines:
        return Cell(head="", lines=(), indent="22")
    if column == 1:
        paragraphs = paragraphs_by_content(lines)
        return Cell(head=paragraphs[0], lines=tuple(paragraphs[1:]), indent=None)
    return Cell(head=join_wrapped(lines), lines=(), indent=None)
