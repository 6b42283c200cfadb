"""Supplement No. 4 to part 744 amendments, whatever the source: instructions, headings and tables in order.

A rule's table rows do not say whether they add, revise or remove; the amendatory instruction above the table
does (``amendments``). The XML front end (``entity_list``) and the text front ends (``text_table``,
``text_flow``, ``pdf_table``) each turn their source into the same sequence of ``Instruction``, ``Heading`` and
``gpotable.Table`` parts, so the rules for reading rows, carrying the country down, matching rows to clauses and
keeping removals named only in the instruction live here once. In the Entity cell the name runs up to
", a.k.a., the following N aliases:"; lines starting with a dash are aliases, the other lines are addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.feeds.amendments import Clause, clean_name, name_key, parse_clauses, supplement_number
from monitor.feeds.countries import country_iso
from monitor.feeds.gpotable import Cell, Table, normalize
from monitor.feeds.records import is_placeholder
from monitor.models import ActionKind, FeedName, ListingAction

ENTITY_LIST_SUPPLEMENT = 4
_AKA = re.compile(
    r",?\s*\b(?:a\.k\.a\.|f\.k\.a\.|also\s+known\s+as|formerly\s+known\s+as)\s*,?\s*"
    r"(?:the\s+following\s+[\w-]+\s+alias(?:es)?\s*:?)?",
    re.IGNORECASE,
)
_ALIAS_DASH = re.compile(r"^\s*(?:—|–|--|-)\s*")
_AND_SPLIT = re.compile(r";\s*(?:and\s+)?")
_AND_AFTER = re.compile(r";\s*and\s+")
_NUMBERED = re.compile(r"^\s*\d+\.\s")
_RESERVED = re.compile(r"^\[?\s*reserved\s*\]?\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class Extraction:
    """What a rule does to the Entity List, plus what the text says about its own filing."""

    actions: tuple[ListingAction, ...]
    method: str  # "xml", "text" (prose), "table-text", "table-flow" or "pdf"
    warnings: tuple[str, ...] = ()
    title: str | None = None
    frdoc_number: str | None = None
    filed_at: datetime | None = None  # from "[FR Doc. … Filed 10-7-19; 4:15 pm]"


@dataclass(frozen=True, slots=True)
class Instruction:
    """An amendatory instruction (``<AMDPAR>``): "Supplement No. 4 to part 744 is amended by adding …"."""

    text: str


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading such as "Supplement No. 4 to Part 744—Entity List": tells which supplement a table amends."""

    text: str


Part = Instruction | Heading | Table


@dataclass
class Context:
    source: FeedName
    warnings: list[str] = field(default_factory=list)
    actions: list[ListingAction] = field(default_factory=list)


def read_parts(parts: Iterable[Part], context: Context) -> bool:
    """Walk one amendment's parts in document order; returns whether they held an Entity List instruction."""
    clauses: list[Clause] = []
    supplement: int | None = None
    pending_table = False  # the last instruction group has not been followed by a table yet
    saw_instruction = False
    rows_for: dict[int, list[str]] = {}
    all_clauses: list[Clause] = []
    for part in parts:
        if isinstance(part, Instruction):
            text = part.text
            if not pending_table:
                clauses = []
            number = supplement_number(text)
            if number is not None or _NUMBERED.match(text):  # "3. Section 744.11 is amended…" starts afresh
                supplement = number
            new = parse_clauses(text)
            if supplement == ENTITY_LIST_SUPPLEMENT or (supplement is None and "entity list" in text.lower()):
                clauses.extend(new)
                all_clauses.extend(new)
                saw_instruction = saw_instruction or bool(new)
            pending_table = True
        elif isinstance(part, Heading):
            number = supplement_number(part.text)
            if number is not None:
                supplement = number
        else:
            if not _is_entity_list_table(part, supplement):
                continue
            saw_instruction = True
            _read_table_rows(part, clauses, context, rows_for)
            pending_table = False
    _actions_without_rows(all_clauses, rows_for, context)
    return saw_instruction


def _is_entity_list_table(table: Table, supplement: int | None) -> bool:
    if supplement is not None:
        return supplement == ENTITY_LIST_SUPPLEMENT
    return table.column("entity") is not None and table.column("license review") is not None


def _read_table_rows(table: Table, clauses: list[Clause], context: Context, rows_for: dict[int, list[str]]) -> None:
    country_col = table.column("country")
    entity_col = table.column("entity")
    requirement_col = table.column("license requirement")
    policy_col = table.column("license review")
    citation_col = table.column("federal register")
    if entity_col is None:  # headerless table: the supplement's fixed column order
        country_col, entity_col, requirement_col, policy_col, citation_col = 0, 1, 2, 3, 4
    country: str | None = None
    for row in table.rows:
        country_cell = row.cell(country_col)
        if country_cell is not None and not country_cell.is_blank and not country_cell.is_stars:
            country = country_cell.text
        entity = row.cell(entity_col)
        if row.is_elision or entity is None or entity.is_blank or entity.is_stars or _RESERVED.match(entity.text):
            continue
        name, aliases, addresses = parse_entity_cell(entity, context.warnings)
        if not name:
            context.warnings.append(f"skipped a row with no entity name: {entity.text[:80]!r}")
            continue
        clause = _clause_for(name, aliases, clauses, context.warnings)
        row_country = country or (clause.country if clause else None)
        kind = clause.kind if clause else ActionKind.ADD
        if clause is None:
            context.warnings.append(f"no amendment instruction above the row for {name!r}; treated as an addition")
        else:
            rows_for.setdefault(id(clause), []).append(name_key(name))
        context.actions.append(
            ListingAction(
                action=kind,
                entity_name=name,
                aliases=tuple(aliases),
                country=row_country,
                country_iso=country_iso(row_country),
                addresses=tuple(addresses),
                license_requirement=_cell_text(row.cell(requirement_col)),
                license_review_policy=_cell_text(row.cell(policy_col)),
                federal_register_citation=_citation(row.cell(citation_col)),
                source=context.source,
            )
        )


def _clause_for(name: str, aliases: list[str], clauses: list[Clause], warnings: list[str]) -> Clause | None:
    """Which instruction clause a row belongs to: by quoted name, else the only plausible one."""
    if not clauses:
        return None
    keys = {name_key(name), *(name_key(alias) for alias in aliases)}
    for clause in clauses:
        if any(name_key(quoted) in keys for quoted in clause.names):
            return clause
    with_rows = [c for c in clauses if c.kind is not ActionKind.REMOVE]
    unnamed = [c for c in with_rows if not c.names]
    if len(unnamed) == 1:
        return unnamed[0]
    if len({c.kind for c in with_rows}) == 1:
        return with_rows[0]
    if not with_rows:
        return clauses[0]
    warnings.append(f"row {name!r} matches no name in a mixed instruction; took the first clause ({with_rows[0].kind})")
    return with_rows[0]


def _actions_without_rows(clauses: list[Clause], rows_for: dict[int, list[str]], context: Context) -> None:
    """Entries an instruction names but no table row shows: removals, mostly. Each still becomes an action."""
    for clause in clauses:
        shown = set(rows_for.get(id(clause), []))
        shown |= {name_key(a.entity_name) for a in context.actions if a.action is clause.kind}
        for quoted in clause.names:
            if name_key(quoted) in shown:
                continue
            if clause.kind is not ActionKind.REMOVE:
                context.warnings.append(f"{clause.kind} of {quoted!r} is named in the instruction but has no table row")
            context.actions.append(
                ListingAction(
                    action=clause.kind,
                    entity_name=quoted,
                    country=clause.country,
                    country_iso=country_iso(clause.country),
                    source=context.source,
                )
            )
        rows = len(rows_for.get(id(clause), []))
        if clause.count is not None and rows and rows != clause.count:
            context.warnings.append(f"instruction says {clause.count} entries to {clause.kind}, the table has {rows}")


def parse_entity_cell(cell: Cell, warnings: list[str] | None = None) -> tuple[str, list[str], list[str]]:
    """(name, aliases, addresses) of one Entity cell."""
    head = cell.head
    aliases: list[str] = []
    match = _AKA.search(head)
    if match is not None:
        name = head[: match.start()]
        inline = head[match.end() :].strip()
        if inline:
            aliases.extend(_strip_item(part) for part in _AND_SPLIT.split(inline) if _strip_item(part))
    else:
        name = head
    name = clean_name(name)
    addresses: list[str] = []
    for line in cell.lines:
        if _ALIAS_DASH.match(line) and not addresses:
            alias = _strip_item(_ALIAS_DASH.sub("", line))
            if alias:
                aliases.append(alias)
        else:
            addresses.extend(item for part in _AND_AFTER.split(line) if (item := _strip_item(part)))
    return name, aliases, addresses


def _strip_item(text: str) -> str:
    """Drop the list punctuation of one alias or address line: "; and", ";", or one final period."""
    text = normalize(text)
    for ending in ("; and", ";and", ", and", ";"):
        if text.endswith(ending):
            return text[: -len(ending)].strip()
    text = text.removeprefix("and ").strip()
    return text[:-1].strip() if text.endswith(".") else text


def _cell_text(cell: Cell | None) -> str | None:
    if cell is None or cell.is_blank or cell.is_stars:
        return None
    return cell.text


def _citation(cell: Cell | None) -> str | None:
    text = _cell_text(cell)
    return None if text is None or is_placeholder(text) else text


def merge_duplicates(actions: list[ListingAction]) -> tuple[ListingAction, ...]:
    """One action per (action, country, name): the natural key of a stored row. Aliases/addresses are unioned."""
    merged: dict[tuple[str, str, str], ListingAction] = {}
    for action in actions:
        key = (action.action.value, action.country or "", action.entity_name)
        if key not in merged:
            merged[key] = action
            continue
        first = merged[key]
        merged[key] = first.model_copy(
            update={
                "aliases": tuple(dict.fromkeys((*first.aliases, *action.aliases))),
                "addresses": tuple(dict.fromkeys((*first.addresses, *action.addresses))),
                "license_requirement": first.license_requirement or action.license_requirement,
                "license_review_policy": first.license_review_policy or action.license_review_policy,
                "federal_register_citation": first.federal_register_citation or action.federal_register_citation,
            }
        )
    return tuple(merged.values())
