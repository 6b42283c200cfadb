"""GPO ``<GPOTABLE>`` reading: header columns, and rows of cells with their text, ``<LI>`` lines and indent code.

Knows the GPO markup conventions (from the FR XML user guide and real rules): ``<BOXHD>`` holds ``<CHED H="n">``
headings where H=2 nests under the preceding H=1; ``<ENT I="28">* * *</ENT>`` rows are elisions; ``I="22"`` is a
blank cell; ``<PRTPAGE>`` marks a printed page break between rows; ``<SU>`` footnote marks are not text.
Knows nothing about the Entity List; ``entity_list`` interprets the cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

_STARS = re.compile(r"^[\s*\u2003\u2002\u2009\u00a0]*$")
_SKIP_TEXT_OF = frozenset({"SU", "FTREF", "PRTPAGE"})


@dataclass(frozen=True, slots=True)
class Cell:
    head: str  # text before the first <LI>
    lines: tuple[str, ...]  # each <LI>, in order
    indent: str | None  # the I= code: 01 first-level, 22 blank, 28 star row
    text: str = field(init=False)  # head and lines joined; computed once (rows are read many times)
    is_stars: bool = field(init=False)

    def __post_init__(self) -> None:
        text = " ".join(part for part in (self.head, *self.lines) if part)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "is_stars", self.indent == "28" or (bool(text) and _STARS.match(text) is not None))

    @property
    def is_blank(self) -> bool:
        return not self.text


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]

    @property
    def is_elision(self) -> bool:
        """A star row (or an all-blank spacer): stands for unchanged entries, carries no data."""
        return all(cell.is_blank or cell.is_stars for cell in self.cells)

    def cell(self, index: int | None) -> Cell | None:
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[Row, ...]

    def column(self, *names: str) -> int | None:
        """Index of the first header that starts with any of ``names`` (case-insensitive)."""
        wanted = tuple(name.lower() for name in names)
        for index, header in enumerate(self.headers):
            if header.lower().startswith(wanted):
                return index
        return None


def normalize(text: str) -> str:
    return " ".join(text.split())


def element_text(element: etree._Element, *, skip_li: bool = False) -> str:
    """Text of an element and its descendants, without footnote marks (and, optionally, without <LI>s)."""
    parts: list[str] = []
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag not in _SKIP_TEXT_OF and not (skip_li and tag == "LI"):
            parts.append(element_text(child))
        if child.tail:
            parts.append(child.tail)
    return normalize("".join(parts))


def read_cell(ent: etree._Element) -> Cell:
    lines = tuple(text for li in ent.iterfind("LI") if (text := element_text(li)))
    return Cell(head=element_text(ent, skip_li=True), lines=lines, indent=ent.get("I"))


def read_headers(boxhd: etree._Element | None) -> tuple[str, ...]:
    """Leaf column headings; an H=1 heading with H=2 children becomes "parent / child" for each child."""
    if boxhd is None:
        return ()
    entries = [(int(ched.get("H") or "1"), element_text(ched)) for ched in boxhd.iterfind("CHED")]
    headers: list[str] = []
    for index, (level, text) in enumerate(entries):
        has_children = index + 1 < len(entries) and entries[index + 1][0] > level
        if has_children:
            continue
        parents = [t for lvl, t in _ancestors(entries, index)]
        headers.append(" / ".join([*parents, text]) if parents else text)
    return tuple(headers)


def _ancestors(entries: list[tuple[int, str]], index: int) -> list[tuple[int, str]]:
    level = entries[index][0]
    found: list[tuple[int, str]] = []
    for back in range(index - 1, -1, -1):
        if entries[back][0] < level:
            found.insert(0, entries[back])
            level = entries[back][0]
            if level == 1:
                break
    return found


def read_table(gpotable: etree._Element) -> Table:
    rows = tuple(Row(tuple(read_cell(ent) for ent in row.iterfind("ENT"))) for row in gpotable.iterfind("ROW"))
    return Table(headers=read_headers(gpotable.find("BOXHD")), rows=rows)
