"""Test fixtures: the 2019 rule's XML rendered the ways real sources render a rule's text.

Each renderer starts from the real markup we ship (``2019-22210.xml``, reconstructed from the GPO sample) and
draws it as a real source does, so the parser meets the layouts it will meet, not one we wrote for it:

* ``fr_text``: the Federal Register's text rendering (GPO ``.htm`` / ``raw_text_url`` of published documents):
  72-column prose with four-space paragraph indents, ``[[Page N]]`` markers, ``--`` for an em dash,
  ````X''`` quotes, ``Sec.`` for §, and each GPOTABLE as fixed-width columns between dashed lines, every cell
  word-wrapped inside its column with a one-space hanging indent, ``* * *`` rows between entries. Column widths
  are a parameter, so tests vary them.
* ``pi_pdf``: the public-inspection typescript as a PDF (reportlab, test dependency only): prose paragraphs and
  the table as a ruled grid whose rows may split across pages, page numbers at the foot, PI placeholders.
* ``reading_order`` / ``layout_kept``: text a tool extracts from that PDF (pypdf / pdfminer in reading order,
  pdfplumber with ``layout=True``), and ``fr_pi_raw_text``: reading order cleaned the way the Federal Register
  cleans its PI raw text (federalregister-api-core ``PublicInspectionDocumentFileImporter#extract_text``).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

Paragraphs = list[str]  # a cell's paragraphs: its head, then one per <LI>

PI_CITATION = "84 FR [INSERT FR PAGE NUMBER], [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]."
PI_DATE = "[INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]"


@dataclass(frozen=True)
class Block:
    kind: str  # title | heading | para | instruction | page | table
    text: str = ""
    page: int = 0
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[Paragraphs, ...], ...] = ()  # () for a star row


@dataclass(frozen=True)
class RuleModel:
    blocks: tuple[Block, ...]
    frdoc: str = ""
    billing: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _text(element: etree._Element) -> str:
    parts: list[str] = []
    if element.text:
        parts.append(element.text)
    for child in element:
        if child.tag not in ("LI", "PRTPAGE", "SU"):
            parts.append(_text(child))
        if child.tail:
            parts.append(child.tail)
    return " ".join("".join(parts).split())


def load_rule(path: Path) -> RuleModel:
    """The rule's blocks in document order, from its XML."""
    root = etree.parse(str(path)).getroot()
    blocks: list[Block] = []
    for element in root.iter():
        tag = element.tag
        if tag in ("AGENCY", "SUBAGY", "CFR", "DEPDOC", "RIN", "SUBJECT"):
            blocks.append(Block("title", _text(element)))
        elif tag == "HD" and element.getparent().tag not in ("AGY", "ACT", "SUM", "EFFDATE", "FURINF", "AUTH"):
            blocks.append(Block("heading", _text(element)))
        elif tag == "P":
            parent = element.getparent()
            lead = parent.find("HD") if parent.tag in ("AGY", "ACT", "SUM", "EFFDATE", "FURINF", "AUTH") else None
            prefix = f"{_text(lead)} " if lead is not None and parent.index(element) == 1 else ""
            blocks.append(Block("para", prefix + _text(element)))
        elif tag == "AMDPAR":
            blocks.append(Block("instruction", _text(element)))
        elif tag == "PRTPAGE":
            blocks.append(Block("page", page=int(element.get("P") or 0)))
        elif tag == "GPOTABLE":
            headers = tuple(_text(ched) for ched in element.iter("CHED"))
            rows: list[tuple[Paragraphs, ...]] = []
            for row in element.iter("ROW"):
                ents = row.findall("ENT")
                if len(ents) == 1 and ents[0].get("I") == "28":
                    rows.append(())
                    continue
                rows.append(tuple([_text(ent), *(_text(li) for li in ent.iter("LI"))] for ent in ents))
            blocks.append(Block("table", headers=headers, rows=tuple(rows)))
    frdoc = _text(root.find(".//FRDOC")) if root.find(".//FRDOC") is not None else ""
    billing = _text(root.find(".//BILCOD")) if root.find(".//BILCOD") is not None else ""
    return RuleModel(tuple(blocks), frdoc=frdoc, billing=billing)


# --- variants of the rule -------------------------------------------------------------------------------------


def as_public_inspection(model: RuleModel) -> RuleModel:
    """PI placeholders where the published rule has its dates and pages."""
    blocks = []
    for block in model.blocks:
        if block.kind == "para" and block.text.startswith("DATES:"):
            block = replace(block, text=f"DATES: This rule is effective {PI_DATE}.")
        if block.kind == "table":
            rows = tuple(
                tuple([PI_CITATION] if i == 4 and cell[0] else cell for i, cell in enumerate(row)) for row in block.rows
            )
            block = replace(block, rows=rows)
        blocks.append(block)
    return replace(model, blocks=tuple(blocks))


def without_named_preamble(model: RuleModel) -> RuleModel:
    """A preamble that names no entity (like the December 2020 SMIC rule's "SMIC and ten of its related
    entities"): every prose paragraph naming one is replaced by a count."""
    generic = "This rule adds twenty-eight entities under the destination of China to the Entity List."
    blocks = []
    for block in model.blocks:
        if block.kind == "para" and re.search(r"Public Security Bureau|Hikvision|Dahua|IFLYTEK", block.text):
            block = replace(block, text=generic)
        blocks.append(block)
    return replace(model, blocks=tuple(blocks))


def with_revisions(model: RuleModel, revised: Sequence[str]) -> RuleModel:
    """The instruction adds most rows and revises the entries quoted in ``revised``: a mixed table."""
    quoted = ", ".join(f"“{name}”" for name in revised[:-1]) + f" and “{revised[-1]}”" if len(revised) > 1 else ""
    if len(revised) == 1:
        quoted = f"“{revised[0]}”"
    text = (
        "2. Supplement No. 4 to part 744 is amended by adding under CHINA, PEOPLE'S REPUBLIC OF, in "
        f"alphabetical order, {28 - len(revised)} Chinese entities and by revising under CHINA, PEOPLE'S "
        f"REPUBLIC OF, the entries for {quoted} to read as follows:"
    )
    blocks = [
        replace(b, text=text) if b.kind == "instruction" and "Supplement No. 4" in b.text else b for b in model.blocks
    ]
    return replace(model, blocks=tuple(blocks))


# --- the Federal Register's text rendering ----------------------------------------------------------------------


def _gpo(text: str) -> str:
    return text.replace("—", "--").replace("–", "-").replace("§ ", "Sec.  ").replace("“", "``").replace("”", "''")


def _wrap_cell(paragraphs: Paragraphs, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in paragraphs:
        if not paragraph:
            continue
        wrapped = textwrap.wrap(
            _gpo(paragraph), width=width, subsequent_indent=" ", break_long_words=True, break_on_hyphens=True
        )
        lines.extend(wrapped)
    return lines


def _header_lines(headers: Sequence[str], widths: Sequence[int], gutter: int) -> list[str]:
    columns = [textwrap.wrap(h, width=w) for h, w in zip(headers, widths, strict=True)]
    height = max(len(c) for c in columns)
    columns = [[""] * (height - len(c)) + c for c in columns]  # bottom-aligned, as GPO sets them
    return [
        (" " * gutter).join(c[i].center(w) for c, w in zip(columns, widths, strict=True)).rstrip()
        for i in range(height)
    ]


def _table_lines(
    block: Block, widths: Sequence[int], gutter: int, break_inside: int | None, page: list[int]
) -> list[str]:
    total = sum(widths) + gutter * (len(widths) - 1)
    lines = ["-" * total, *_header_lines(block.headers, widths, gutter), "-" * total, " "]
    entity_rows = 0
    for row in block.rows:
        if not row:
            lines += ["*  *  *  *  *  *  *".center(total).rstrip(), " "]
            continue
        cells = [_wrap_cell(cell, width) for cell, width in zip(row, widths, strict=True)]
        height = max(len(c) for c in cells)
        rendered = [
            (" " * gutter)
            .join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True))
            .rstrip()
            for i in range(height)
        ]
        if row[1] and row[1][0]:
            entity_rows += 1
            if break_inside is not None and entity_rows == break_inside and height > 2:
                page[0] += 1
                rendered[height // 2 : height // 2] = ["", f"[[Page {page[0]}]]", ""]
        lines += [*rendered, " "]
    return [*lines, "-" * total]


def fr_text(
    model: RuleModel, *, widths: Sequence[int] = (16, 24, 18, 24, 14), gutter: int = 2, break_inside: int | None = 3
) -> str:
    """The Federal Register's text rendering of the rule; ``break_inside`` puts a page break inside that entry."""
    out = ["[Federal Register Volume 84, Number 195 (Wednesday, October 9, 2019)]", "[Rules and Regulations]",
           "[Pages 54002-54009]", "From the Federal Register Online via the Government Publishing Office [www.gpo.gov]",
           "[FR Doc No: 2019-22210]", "", "[[Page 54002]]", "", "=" * 71, "-" * 71, ""]  # fmt: skip
    page = [54002]
    for block in model.blocks:
        if block.kind == "title":
            out += [_gpo(block.text), ""]
        elif block.kind == "heading":
            out += ["", _gpo(block.text), ""]
        elif block.kind in ("para", "instruction"):
            indent = "    "
            out += [*textwrap.wrap(_gpo(block.text), width=71, initial_indent=indent), ""]
        elif block.kind == "page":
            page[0] = block.page
            out += ["", f"[[Page {block.page}]]", ""]
        elif block.kind == "table":
            out += [*_table_lines(block, widths, gutter, break_inside, page), ""]
    out += [_gpo(model.frdoc), _gpo(model.billing)]
    return "\n".join(line.rstrip() if line.strip() else line for line in out) + "\n"


# --- the public-inspection PDF ----------------------------------------------------------------------------------


def pi_pdf(
    model: RuleModel, *, column_widths: Sequence[float] = (70, 150, 90, 140, 80), font_size: float = 10
) -> bytes:
    """The PI typescript: prose, then the table as a ruled grid (rows may split across pages), page numbers."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    body = ParagraphStyle("body", fontName="Times-Roman", fontSize=font_size + 2, leading=(font_size + 2) * 2)
    cell = ParagraphStyle("cell", fontName="Times-Roman", fontSize=font_size, leading=font_size * 1.25, spaceAfter=4)
    story: list[object] = []
    for block in model.blocks:
        if block.kind in ("title", "heading", "para", "instruction"):
            story.append(Paragraph(escape(block.text), body))
        elif block.kind == "table":
            data: list[list[object]] = [[Paragraph(escape(h), cell) for h in block.headers]]
            styles: list[tuple[object, ...]] = [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
            for row in block.rows:
                if not row:
                    data.append([Paragraph("*  *  *  *  *  *  *", cell), "", "", "", ""])
                    styles.append(("SPAN", (0, len(data) - 1), (-1, len(data) - 1)))
                    continue
                data.append([[Paragraph(escape(p), cell) for p in paragraphs if p] for paragraphs in row])
            table = Table(data, colWidths=list(column_widths), repeatRows=1, splitInRow=1)
            table.setStyle(TableStyle(styles))
            story += [Spacer(1, 6), table, Spacer(1, 6)]
    story.append(Paragraph(escape(model.frdoc), body))
    story.append(Paragraph(escape(model.billing), body))

    def number(canvas: object, doc: object) -> None:
        canvas.setFont("Times-Roman", 11)  # type: ignore[attr-defined]
        canvas.drawCentredString(306, 30, str(doc.page))  # type: ignore[attr-defined]

    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=letter, leftMargin=54, rightMargin=54).build(
        story, onFirstPage=number, onLaterPages=number
    )
    return buffer.getvalue()


def reading_order_pypdf(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\f".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def reading_order_pdfminer(pdf: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(pdf))


def layout_kept(pdf: bytes, *, x_density: float = 4.0) -> str:
    """pdfplumber ``layout=True``; at its default ``x_density`` (7.25 points a character) a Times grid's columns
    run into each other with one space between, so the gutters are gone: 4 keeps them, as ``pdftotext -layout``
    does."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n\f".join(page.extract_text(layout=True, x_density=x_density) or "" for page in document.pages)


def fr_pi_raw_text(reading_order: str) -> str:
    """What the Federal Register serves as PI raw text: its own clean-up of the PDF's text."""
    text = re.sub(r"-{3,}", "", reading_order)
    text = re.sub(r"\.{4,}", "", text)
    text = re.sub(r"_{2,}", "", text)
    text = re.sub(r"\\\d+\\", "", text)
    text = text.replace("|", "")
    return re.sub(r"\n\d+\n\n", "\n", text)


Renderer = Callable[[RuleModel], str]
