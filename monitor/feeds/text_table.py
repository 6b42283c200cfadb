"""Supplement No. 4 tables drawn as fixed-width text: the Federal Register's text rendering and layout-kept PDF text.

Two real sources draw the table as columns of characters. The Federal Register's text rendering (a published
document's ``raw_text_url``, GPO's ``.htm``) puts the headings between dashed lines and word-wraps every cell
inside its column with a one-space hanging indent; ``pdftotext -layout`` and pdfplumber's ``layout=True`` keep the
PI PDF's columns at their x positions, headings left-aligned and no indent. In both, one entity's name, aliases
and address run down several lines beside its licence cells, and ``* * *`` rows, page markers and page numbers
cut through the table.

Columns come from the header: each heading's words give a column's rough place, and the exact boundary between
two columns is the gutter where the data lines' cells start (never a guess from punctuation). Rows start where the
Entity and License requirement columns both start a fresh paragraph. The cells then go to ``supplement`` as a
``gpotable.Table``, like the XML's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from monitor.feeds.gpotable import Cell, Row, Table

HEADINGS = ("Country", "Entity", "License requirement", "License review policy", "Federal Register citation")
_KEYS = ("country", "entity", "requirement", "policy", "citation")
_HEADER_ANCHOR = re.compile(r"\bCountry\b.*\bEntity\b", re.IGNORECASE)
_HEADER_WORDS = frozenset(
    {"country", "entity", "license", "licence", "requirement", "requirements", "review", "policy", "federal",
     "register", "citation", "citations", "fr"}
)  # fmt: skip
_DASHES = re.compile(r"^\s*-{10,}\s*$")
_STARS = re.compile(r"^[\s*]*\*[\s*]*$")
_PAGE_MARK = re.compile(r"^\s*(?:\[\[Page \d+\]\]|\d{1,4}|\f)\s*$")
_TOKEN = re.compile(r"\S+")
_TABLE_END = re.compile(r"^\s*(?:\[FR\s+Doc|BILLING\s+CODE|Dated:|\d+\.\s+(?:Section|Supplement|Part|In\b))")
_TERMINAL = (".", ";", ":", ")", "; and")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    start: int
    end: int  # exclusive; the last column runs to the end of the line


@dataclass(frozen=True, slots=True)
class TextTable:
    """Where one table sits in the text's lines, and the Table read from it."""

    first_line: int
    last_line: int  # exclusive
    table: Table


@dataclass
class _Fragment:
    text: str
    indent: int


@dataclass
class _RowDraft:
    cells: list[list[_Fragment]] = field(default_factory=lambda: [[] for _ in _KEYS])

    @property
    def empty(self) -> bool:
        return not any(self.cells)

    def has(self, column: int) -> bool:
        return bool(self.cells[column])


def find_tables(lines: Sequence[str]) -> list[TextTable]:
    """Every Supplement No. 4 table drawn in ``lines`` (one string per line, no newlines)."""
    tables: list[TextTable] = []
    index = 0
    while index < len(lines):
        if not _HEADER_ANCHOR.search(lines[index]) or not _looks_like_header(lines[index]):
            index += 1
            continue
        header_lines, data_start = _header_block(lines, index)
        columns = _columns(lines, header_lines, data_start)
        if columns is None:
            index += 1
            continue
        data_end = _table_end(lines, data_start, columns)
        rows = _rows(lines[data_start:data_end], columns, hanging=_is_dashed(lines, index))
        tables.append(TextTable(index, data_end, Table(headers=HEADINGS, rows=tuple(rows))))
        index = max(data_end, index + 1)
    return tables


def _looks_like_header(line: str) -> bool:
    words = [w.strip(".,:").lower() for w in line.split()]
    return bool(words) and sum(w in _HEADER_WORDS for w in words) >= len(words) - 1


def _is_dashed(lines: Sequence[str], anchor: int) -> bool:
    return any(_DASHES.match(lines[i]) for i in range(max(0, anchor - 6), anchor))


def _header_block(lines: Sequence[str], anchor: int) -> tuple[list[int], int]:
    """The header's line numbers and the first data line. A dashed header runs between two dashed lines; a
    layout-kept one is the anchor line and the heading words wrapped below it."""
    if _is_dashed(lines, anchor):
        top = anchor
        while top > 0 and not _DASHES.match(lines[top - 1]):
            top -= 1
        bottom = anchor + 1
        while bottom < len(lines) and not _DASHES.match(lines[bottom]):
            bottom += 1
        return [i for i in range(top, min(bottom, len(lines))) if lines[i].strip()], min(bottom + 1, len(lines))
    block = [anchor]
    below = anchor + 1
    while below < len(lines) and lines[below].strip() and _looks_like_header(lines[below]):
        block.append(below)
        below += 1
    return block, below


def _columns(lines: Sequence[str], header: list[int], data_start: int) -> list[Column] | None:
    """Five columns from the heading words' places, boundaries moved to the gutter the data lines agree on."""
    blocks = _heading_blocks([lines[i] for i in header])
    if blocks is None:
        return None
    sample: list[str] = []
    for line in lines[data_start : data_start + 2000]:
        if _DASHES.match(line) or _TABLE_END.match(line):
            break
        if line.strip() and not _STARS.match(line) and not _PAGE_MARK.match(line):
            sample.append(line)
    starts = [0]
    for (_, _, end), (_, next_start, _) in pairwise(blocks):
        starts.append(_gutter(sample, end, next_start))
    ends = [*starts[1:], 10**6]
    return [Column(key, start, stop) for key, start, stop in zip(_KEYS, starts, ends, strict=True)]


def _heading_blocks(header: list[str]) -> list[tuple[str, int, int]] | None:
    """(key, start, end) per column: heading words that overlap across lines, or touch on one line, group."""
    tokens = [(m.start(), m.end(), m.group().lower().strip(".,:")) for line in header for m in _TOKEN.finditer(line)]
    tokens.sort()
    groups: list[list[tuple[int, int, str]]] = []
    for token in tokens:
        if groups and token[0] <= max(t[1] for t in groups[-1]) + 1:
            groups[-1].append(token)
        else:
            groups.append([token])
    found: list[tuple[str, int, int]] = []
    pending: list[tuple[int, int, str]] = []
    for group in groups:
        group = pending + group  # "License" alone names no column: it belongs to the heading after it
        key = _key_of({t[2] for t in group})
        if key is None:
            pending = group
            continue
        pending = []
        found.append((key, min(t[0] for t in group), max(t[1] for t in group)))
    if [k for k, _, _ in found] != list(_KEYS):
        return None
    return found


def _key_of(words: set[str]) -> str | None:
    if "country" in words:
        return "country"
    if "entity" in words:
        return "entity"
    if "requirement" in words or "requirements" in words:
        return "requirement"
    if "review" in words or "policy" in words:
        return "policy"
    if "citation" in words or "federal" in words or "register" in words:
        return "citation"
    return None


def _gutter(sample: Sequence[str], low: int, high: int) -> int:
    """The boundary in ``[low, high]``: no word runs across it, and most data lines start a cell there.

    With a hanging indent, a cell's first lines start one place left of its continuation lines, which are more
    numerous; the boundary is the first-line position, so a well-used start just left of the best one wins."""
    positions = range(max(1, low), high + 1)
    if not positions:
        return high
    starts = {
        p: sum(1 for line in sample if p < len(line) and line[p] != " " and line[p - 1] == " ") for p in positions
    }
    crossings = {
        p: sum(1 for line in sample if p < len(line) and line[p] != " " and line[p - 1] != " ") for p in positions
    }
    fewest = min(crossings.values())
    candidates = [p for p in positions if crossings[p] == fewest]
    best = max(candidates, key=lambda p: (starts[p], -p))
    if starts[best] == 0:
        return high
    while best - 1 in starts and crossings[best - 1] == fewest and starts[best - 1] >= 0.2 * starts[best]:
        best -= 1
    return best


def _table_end(lines: Sequence[str], start: int, columns: list[Column]) -> int:
    """The first line past the table: a closing dashed line, the rule's signature block or prose that runs
    across the column gutters."""
    index = start
    while index < len(lines):
        line = lines[index]
        if _DASHES.match(line) or _TABLE_END.match(line):
            return index
        if _HEADER_ANCHOR.search(line) and index > start and not _looks_like_header(line):
            return index
        if line.strip() and _crosses_gutters(line, columns) >= 2:
            return index
        index += 1
    return index


def _crosses_gutters(line: str, columns: list[Column]) -> int:
    """How many column boundaries a line's words run across (prose does; table lines never do)."""
    return sum(
        1
        for column in columns[1:]
        if 0 < column.start < len(line) and line[column.start - 1] != " " and line[column.start] != " "
    )


def _slice(line: str, columns: list[Column]) -> list[_Fragment | None]:
    fragments: list[_Fragment | None] = []
    for column in columns:
        raw = line[column.start : column.end].rstrip()
        text = raw.strip()
        fragments.append(_Fragment(text, len(raw) - len(raw.lstrip(" "))) if text else None)
    return fragments


def _rows(lines: Sequence[str], columns: list[Column], *, hanging: bool) -> list[Row]:
    rows: list[Row] = []
    draft = _RowDraft()
    entity, requirement = 1, 2

    def close() -> None:
        nonlocal draft
        if not draft.empty:
            rows.append(Row(tuple(_cell(fragments, hanging=hanging) for fragments in draft.cells)))
        draft = _RowDraft()

    for line in lines:
        if not line.strip() or _PAGE_MARK.match(line) or (_HEADER_ANCHOR.search(line) and _looks_like_header(line)):
            continue
        if _STARS.match(line):
            close()
            continue
        fragments = _slice(line, columns)
        fresh = [f is not None and _fresh(f, draft.cells[i], hanging=hanging) for i, f in enumerate(fragments)]
        starts_row = fresh[entity] and fresh[requirement]
        country_row = fresh[0] and draft.has(entity)
        if not draft.empty and (starts_row or country_row) and (draft.has(entity) or draft.has(requirement)):
            close()
        for index, fragment in enumerate(fragments):
            if fragment is not None:
                draft.cells[index].append(fragment)
    close()
    return rows


def _fresh(fragment: _Fragment, earlier: list[_Fragment], *, hanging: bool) -> bool:
    """Whether ``fragment`` starts a new paragraph of its cell (hanging indent, else the last line ended one)."""
    if hanging:
        return fragment.indent == 0
    return not earlier or earlier[-1].text.endswith(_TERMINAL)


def _cell(fragments: list[_Fragment], *, hanging: bool) -> Cell:
    if hanging:
        paragraphs: list[list[str]] = []
        for fragment in fragments:
            if fragment.indent == 0 or not paragraphs:
                paragraphs.append([fragment.text])
            else:
                paragraphs[-1].append(fragment.text)
        joined = [join_wrapped(p) for p in paragraphs]
    else:
        joined = paragraphs_by_content([f.text for f in fragments])
    if not joined:
        return Cell(head="", lines=(), indent="22")
    return Cell(head=joined[0], lines=tuple(joined[1:]), indent=None)


def join_wrapped(lines: Sequence[str]) -> str:
    """Lines of one wrapped paragraph as one string; a line broken after a hyphen joins without a space."""
    text = ""
    for line in lines:
        part = line.strip()
        if not part:
            continue
        if text.endswith("-") and not text.endswith(" -") and part[:1].isalnum():
            text += part
        else:
            text = f"{text} {part}" if text else part
    return text


_AKA_END = re.compile(r"\b(?:a\.k\.a\.|f\.k\.a\.|also known as).*?(?:alias(?:es)?\s*:|:)\s*$", re.IGNORECASE)
_AKA_ANY = re.compile(r"\b(?:a\.k\.a\.|f\.k\.a\.|also known as)", re.IGNORECASE)
_DASH_START = re.compile(r"^\s*(?:—|–|--|-)\s*\S")


def paragraphs_by_content(lines: Sequence[str]) -> list[str]:
    """A cell's paragraphs when the layout does not mark them: the name runs to the alias phrase (or to its
    closing comma), each alias starts with a dash, and an address runs until a line ends it ("." or "; and")."""
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        return []
    has_aka = any(_AKA_ANY.search(line) for line in lines)
    name: list[str] = []
    index = 0
    while index < len(lines):
        name.append(lines[index])
        index += 1
        text = join_wrapped(name)
        if (has_aka and _AKA_END.search(text)) or (not has_aka and text.endswith(",")):
            break
        if has_aka and _AKA_ANY.search(text) and index < len(lines) and _DASH_START.match(lines[index]):
            break
    paragraphs = [join_wrapped(name)]
    current: list[str] = []
    for line in lines[index:]:
        starts = _DASH_START.match(line) is not None
        if current and (starts or join_wrapped(current).endswith(_TERMINAL)):
            paragraphs.append(join_wrapped(current))
            current = []
        current.append(line)
    if current:
        paragraphs.append(join_wrapped(current))
    return paragraphs
