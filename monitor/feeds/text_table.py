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
from dataclasses import dataclass
from enum import Enum
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from monitor.feeds.gpotable import Cell, Row, Table

HEADINGS = ("Country", "Entity", "License requirement", "License review policy", "Federal Register citation")
_KEYS = ("country", "entity", "requirement", "policy", "citation")
_HEADER_ANCHOR = re.compile(r"\bCountry\b.*\bEntity\b", re.IGNORECASE)
_HEADER_WORDS = frozenset(
    {"country", "entity", "license", "licence", "requirement", "requirements", "review", "policy", "federal",
     "register", "citation", "citations", "fr"}
)  # fmt: skip
_KIND = re.compile(  # what a stripped, non-empty line is, in one match: a cell line matches none of these
    r"(?P<dashes>-{10,}$)"
    r"|(?P<page>(?:\[\[Page \d+\]\]|\d{1,4})$)"
    r"|(?P<stars>\*[\s*]*$)"
    r"|(?P<end>(?:\[FR\s+Doc|BILLING\s+CODE|Dated:|\d+\.\s+(?:Section|Supplement|Part|In\b)))"
)
_TOKEN = re.compile(r"\S+")
MAX_SAMPLE = 2000  # data lines read to place the gutters
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


@dataclass(slots=True)
class _Fragment:
    text: str
    indent: int


class Kind(Enum):
    """What one line of a text is, decided once per line (one regex match), so no stage re-reads it."""

    TEXT = "text"
    BLANK = "blank"  # empty, or only spaces and a form feed
    DASHES = "dashes"  # a header's or table's dashed rule
    PAGE = "page"  # "[[Page 54005]]" or a bare page number
    STARS = "stars"  # "*  *  *" between entries
    END = "end"  # the rule's signature block, FR Doc line or the next numbered instruction
    HEADER = "header"  # a Country | Entity | … heading line
    ANCHOR = "anchor"  # names Country … Entity, but in prose


def line_kinds(lines: Sequence[str]) -> list[Kind]:
    """Each line's ``Kind``."""
    kinds: list[Kind] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            kinds.append(Kind.BLANK)
            continue
        match = _KIND.match(stripped)
        if match is not None:
            kinds.append(Kind(match.lastgroup))
            continue
        lowered = line.lower()
        if "country" in lowered and "entity" in lowered and _HEADER_ANCHOR.search(line):
            kinds.append(Kind.HEADER if _looks_like_header(line) else Kind.ANCHOR)
        else:
            kinds.append(Kind.TEXT)
    return kinds


def find_tables(lines: Sequence[str]) -> list[TextTable]:
    """Every Supplement No. 4 table drawn in ``lines`` (one string per line, no newlines)."""
    kinds = line_kinds(lines)
    tables: list[TextTable] = []
    index = 0
    while index < len(lines):
        if kinds[index] is not Kind.HEADER:
            index += 1
            continue
        dashed = _is_dashed(kinds, index)
        header_lines, data_start = _header_block(lines, kinds, index, dashed=dashed)
        region = _Region.of(lines, kinds, data_start)
        columns = _columns(lines, header_lines, region)
        if columns is None:
            index += 1
            continue
        data_end = region.table_end(columns)
        rows = _rows(
            lines[data_start:data_end],
            kinds[data_start:data_end],
            region.ink[: data_end - data_start],
            columns,
            hanging=dashed,
        )
        tables.append(TextTable(index, data_end, Table(headers=HEADINGS, rows=tuple(rows))))
        index = max(data_end, index + 1)
    return tables


def _looks_like_header(line: str) -> bool:
    words = [w.strip(".,:").lower() for w in line.split()]
    return bool(words) and sum(w in _HEADER_WORDS for w in words) >= len(words) - 1


def _is_dashed(kinds: Sequence[Kind], anchor: int) -> bool:
    return Kind.DASHES in kinds[max(0, anchor - 6) : anchor]


def _header_block(lines: Sequence[str], kinds: Sequence[Kind], anchor: int, *, dashed: bool) -> tuple[list[int], int]:
    """The header's line numbers and the first data line. A dashed header runs between two dashed lines; a
    layout-kept one is the anchor line and the heading words wrapped below it."""
    if dashed:
        top = anchor
        while top > 0 and kinds[top - 1] is not Kind.DASHES:
            top -= 1
        bottom = anchor + 1
        while bottom < len(lines) and kinds[bottom] is not Kind.DASHES:
            bottom += 1
        return [i for i in range(top, min(bottom, len(lines))) if lines[i].strip()], min(bottom + 1, len(lines))
    block = [anchor]
    below = anchor + 1
    while below < len(lines) and lines[below].strip() and _looks_like_header(lines[below]):
        block.append(below)
        below += 1
    return block, below


_CELL_LINES = frozenset({Kind.TEXT, Kind.ANCHOR, Kind.HEADER})


@dataclass(frozen=True, slots=True)
class _Region:
    """The lines below a header, up to a dashed rule or the end of the rule, as a grid of "ink" (characters other
    than spaces, lines padded with spaces): gutters and the table's end are counted over the grid with numpy,
    not by a Python loop over lines and positions."""

    start: int  # the first data line, in the text's line numbers
    kinds: Sequence[Kind]
    ink: npt.NDArray[np.bool_]  # [line, position]
    width: int

    @classmethod
    def of(cls, lines: Sequence[str], kinds: Sequence[Kind], start: int) -> _Region:
        stop = start
        while stop < len(lines) and kinds[stop] not in (Kind.DASHES, Kind.END):
            stop += 1
        width = max((len(line) for line in lines[start:stop]), default=0) + 1
        block = "".join(line.ljust(width) for line in lines[start:stop])
        codes = np.frombuffer(block.encode("utf-32-le"), dtype=np.uint32).reshape(stop - start, width)
        return cls(start, kinds[start:stop], codes != ord(" "), width)

    def sample(self) -> npt.NDArray[np.bool_]:
        """The cell lines among the first ``MAX_SAMPLE`` lines (no blank, stars or page-number lines; a heading
        repeated after a page break counts, as its words sit in the columns)."""
        cells = [kind in _CELL_LINES for kind in self.kinds[:MAX_SAMPLE]]
        return self.ink[: len(cells)][np.array(cells, dtype=np.bool_)]

    def table_end(self, columns: list[Column]) -> int:
        """The first line past the table: a closing dashed line, the rule's signature block, or prose that names
        Country … Entity or runs across two or more column gutters (table lines never do)."""
        cuts = [column.start for column in columns[1:] if 0 < column.start < self.width]
        crossings = (self.ink[:, [cut - 1 for cut in cuts]] & self.ink[:, cuts]).sum(axis=1)
        ends = crossings >= 2
        ends[1:] |= np.array([kind is Kind.ANCHOR for kind in self.kinds[1:]], dtype=np.bool_)
        found = np.flatnonzero(ends)
        return self.start + (int(found[0]) if len(found) else len(self.kinds))


def _columns(lines: Sequence[str], header: list[int], region: _Region) -> list[Column] | None:
    """Five columns from the heading words' places, boundaries moved to the gutter the data lines agree on."""
    blocks = _heading_blocks([lines[i] for i in header])
    if blocks is None:
        return None
    sample = region.sample()
    ink, before = sample[:, 1:], sample[:, :-1]  # position p and p - 1, for p ≥ 1
    starts = np.zeros(region.width, dtype=np.int64)
    crossings = np.zeros(region.width, dtype=np.int64)
    starts[1:] = (ink & ~before).sum(axis=0)
    crossings[1:] = (ink & before).sum(axis=0)
    bounds = [0]
    for (_, _, end), (_, next_start, _) in pairwise(blocks):
        bounds.append(_gutter(starts.tolist(), crossings.tolist(), end, next_start))
    ends = [*bounds[1:], 10**6]
    return [Column(key, start, stop) for key, start, stop in zip(_KEYS, bounds, ends, strict=True)]


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


def _gutter(starts_at: list[int], crossings_at: list[int], low: int, high: int) -> int:
    """The boundary in ``[low, high]``: no word runs across it, and most data lines start a cell there.

    ``starts_at[p]`` counts the sample lines where a cell starts at ``p``, ``crossings_at[p]`` those where a word
    runs across ``p - 1 | p``. With a hanging indent, a cell's first lines start one place left of its
    continuation lines, which are more numerous; the boundary is the first-line position, so a well-used start
    just left of the best one wins."""
    positions = range(max(1, low), high + 1)
    if not positions:
        return high
    starts = {p: starts_at[p] if p < len(starts_at) else 0 for p in positions}
    crossings = {p: crossings_at[p] if p < len(crossings_at) else 0 for p in positions}
    fewest = min(crossings.values())
    candidates = [p for p in positions if crossings[p] == fewest]
    best = max(candidates, key=lambda p: (starts[p], -p))
    if starts[best] == 0:
        return high
    while best - 1 in starts and crossings[best - 1] == fewest and starts[best - 1] >= 0.2 * starts[best]:
        best -= 1
    return best


def _fragments(
    lines: Sequence[str], ink: npt.NDArray[np.bool_], column: Column, cell_lines: npt.NDArray[np.bool_]
) -> tuple[list[_Fragment | None], npt.NDArray[np.bool_]]:
    """Each cell line's piece of one column (None where it is blank, or the line is no cell line), cut where the
    ink grid says its text starts and ends: one numpy pass per column, no strip calls per line and column."""
    inside = ink[:, column.start : column.end]
    here = np.flatnonzero(np.any(inside, axis=1) & cell_lines)
    inside = inside[here]
    first: list[int] = inside.argmax(axis=1).tolist()
    last: list[int] = (inside.shape[1] - inside[:, ::-1].argmax(axis=1)).tolist()
    start = column.start
    pieces: list[_Fragment | None] = [None] * len(lines)
    for line, indent, end in zip(here.tolist(), first, last, strict=True):
        text = lines[line][start + indent : start + end].strip()
        if text:
            pieces[line] = _Fragment(text, indent)
    return pieces, np.array([piece is not None for piece in pieces], dtype=np.bool_)


def _rows(
    lines: Sequence[str], kinds: Sequence[Kind], ink: npt.NDArray[np.bool_], columns: list[Column], *, hanging: bool
) -> list[Row]:
    """Rows of cells: a row starts where the Entity and License requirement cells both start a paragraph, or where
    a country appears beside an entity already read; ``* * *`` lines close a row.

    Only lines that could start or close a row are visited (a star line, or a Country piece, or Entity and License
    requirement pieces side by side); cumulative counts say what the row read so far holds."""
    cell_lines = np.array([kind is Kind.TEXT or kind is Kind.ANCHOR for kind in kinds], dtype=np.bool_)
    stars = np.array([kind is Kind.STARS for kind in kinds], dtype=np.bool_)
    cut = [_fragments(lines, ink, column, cell_lines) for column in columns]
    pieces = [column_pieces for column_pieces, _ in cut]
    present = [here for _, here in cut]
    before: list[list[int]] = [np.concatenate(([0], np.cumsum(here))).tolist() for here in present]
    previous = [_previous(here) for here in present]
    country, entity, requirement = 0, 1, 2
    rows: list[Row] = []
    top = 0  # the first line of the row being read

    def close(end: int) -> None:
        cells = [[piece for piece in column[top:end] if piece is not None] for column in pieces]
        if any(cells):
            rows.append(Row(tuple(_cell(fragments, hanging=hanging) for fragments in cells)))

    def fresh(column: int, line: int) -> bool:
        """Whether the column's piece on ``line`` starts a paragraph (hanging indent, else the piece above it in
        this row ended one)."""
        piece = pieces[column][line]
        if piece is None:
            return False
        if hanging:
            return piece.indent == 0
        if before[column][line] == before[column][top]:
            return True
        above = pieces[column][previous[column][line]]
        return above is not None and above.text.endswith(_TERMINAL)

    candidates = stars | present[country] | (present[entity] & present[requirement])
    for line in np.flatnonzero(candidates).tolist():
        if stars[line]:
            close(line)
            top = line + 1
            continue
        has_entity = before[entity][line] > before[entity][top]
        if not has_entity and before[requirement][line] == before[requirement][top]:
            continue
        starts_row = fresh(entity, line) and fresh(requirement, line)
        if starts_row or (has_entity and fresh(country, line)):
            close(line)
            top = line
    close(len(kinds))
    return rows


def _previous(present: npt.NDArray[np.bool_]) -> list[int]:
    """For each line, the index of the last line above it with a piece (-1 where none)."""
    marks = np.where(present, np.arange(len(present)), -1)
    above = np.full(len(present), -1, dtype=np.int64)
    if len(present) > 1:
        above[1:] = np.maximum.accumulate(marks)[:-1]
    result: list[int] = above.tolist()
    return result


def _cell(fragments: list[_Fragment], *, hanging: bool) -> Cell:
    if hanging:
        # A paragraph starts at each unindented piece; in one join, "\n" marks those starts and " " the rest.
        flat = "".join([("\n" if fragment.indent == 0 else " ") + fragment.text for fragment in fragments])
        if "- " not in flat:  # no hyphen ends a wrapped line (join_wrapped's one special case)
            joined = flat[1:].split("\n") if flat else []
            return _cell_of(joined)
        paragraphs: list[list[str]] = []
        for fragment in fragments:
            if fragment.indent == 0 or not paragraphs:
                paragraphs.append([fragment.text])
            else:
                paragraphs[-1].append(fragment.text)
        joined = [join_wrapped(p) for p in paragraphs]
    else:
        joined = paragraphs_by_content([f.text for f in fragments])
    return _cell_of(joined)


def _cell_of(paragraphs: list[str]) -> Cell:
    if not paragraphs:
        return Cell(head="", lines=(), indent="22")
    return Cell(head=paragraphs[0], lines=tuple(paragraphs[1:]), indent=None)


def join_wrapped(lines: Sequence[str]) -> str:
    """Lines of one wrapped paragraph as one string; a line broken after a hyphen joins without a space."""
    parts = [part for line in lines if (part := line.strip())]
    joined = " ".join(parts)
    if "- " not in joined:  # no line ends with a hyphen before another: the plain join is the answer
        return joined
    text = ""
    for part in parts:
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
