"""Synthetic Federal Register responses for Entity List rules, in the saved-responses layout.

Labelled synthetic wherever they are written: the markup copies the reconstructed 2019-22210 rule
(``../shared/data/feeds/entity_list_2019-22210/``), which itself copies a real GPO rule, so the feeds code parses
them exactly as it parses that rule. The backfill tests use one (the Huawei rule of May 2019, whose real XML is
not in the corpus) and the backfill benchmark writes hundreds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
BIS = {
    "raw_name": "Bureau of Industry and Security",
    "name": "Industry and Security Bureau",
    "id": 241,
    "url": "https://www.federalregister.gov/agencies/industry-and-security-bureau",
    "json_url": "https://www.federalregister.gov/api/v1/agencies/241",
    "parent_id": 54,
    "slug": "industry-and-security-bureau",
}
COMMERCE = {
    "raw_name": "DEPARTMENT OF COMMERCE",
    "name": "Commerce Department",
    "id": 54,
    "url": "https://www.federalregister.gov/agencies/commerce-department",
    "json_url": "https://www.federalregister.gov/api/v1/agencies/54",
    "parent_id": None,
    "slug": "commerce-department",
}
LICENSE = "For all items subject to the EAR. (See § 744.11 of the EAR)."
POLICY = "Presumption of denial."
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


@dataclass(frozen=True)
class Entity:
    name: str
    address: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    document_number: str
    publication_date: date
    filed_at: datetime | None  # public-inspection filing (aware); None leaves the PDF URL without its epoch
    entities: tuple[Entity, ...]
    country: str = "CHINA, PEOPLE'S REPUBLIC OF"
    title: str = "Addition of Entities to the Entity List"
    volume: int = 84
    start_page: int = 22961
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        return f"{self.volume} FR {self.start_page}"

    @property
    def html_url(self) -> str:
        day = self.publication_date
        slug = self.title.lower().replace(" ", "-")
        return f"https://www.federalregister.gov/documents/{day:%Y/%m/%d}/{self.document_number}/{slug}"

    @property
    def pi_pdf_url(self) -> str:
        url = f"https://public-inspection.federalregister.gov/{self.document_number}.pdf"
        return f"{url}?{int(self.filed_at.timestamp())}" if self.filed_at is not None else url


def _words(count: int) -> str:
    return NUMBER_WORDS.get(count, str(count))


def _entity_cell(entity: Entity) -> str:
    if not entity.aliases:
        return f"{escape(entity.name)},\n              <LI>{escape(entity.address)}</LI>"
    count = len(entity.aliases)
    head = f"{escape(entity.name)}, a.k.a., the following {_words(count)} alias{'es' if count > 1 else ''}:"
    items = []
    for position, alias in enumerate(entity.aliases):
        end = "." if position == count - 1 else ("; and" if position == count - 2 else ";")
        items.append(f"<LI>—{escape(alias)}{end}</LI>")
    lines = "\n              ".join([*items, f"<LI>{escape(entity.address)}</LI>"])
    return f"{head}\n              {lines}"


def rule_xml(rule: Rule) -> str:
    """The per-document FR XML (root ``RULE``) of an Entity List addition rule."""
    names = sorted(entity.name for entity in rule.entities)
    listed = "; ".join(names[:-1]) + ("; and " if len(names) > 1 else "") + names[-1]
    count = _words(len(rule.entities))
    short = f"{rule.volume} FR {rule.start_page}, {rule.publication_date:%-m/%-d/%y}."
    rows = []
    for entity in sorted(rule.entities, key=lambda e: e.name):
        rows.append(
            f"""          <ROW>
            <ENT I="22"> </ENT>
            <ENT>{_entity_cell(entity)}</ENT>
            <ENT>{escape(LICENSE)}</ENT>
            <ENT>{POLICY}</ENT>
            <ENT>{short}</ENT>
          </ROW>
          <ROW>
            <ENT I="28">*         *         *         *         *         *         *</ENT>
          </ROW>"""
        )
    filed = ""
    if rule.filed_at is not None:
        local = rule.filed_at.astimezone(EASTERN)
        clock = f"{local:%-I:%M} {'am' if local.hour < 12 else 'pm'}"
        filed = f"<FRDOC>[FR Doc. {rule.document_number} Filed {local:%-m-%-d-%y}; {clock}]</FRDOC>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- SYNTHETIC: built by tests/backfill/synthetic.py in the markup of the reconstructed 2019-22210 rule;
     not the Federal Register's text. -->
<RULE>
  <PREAMB>
    <AGENCY TYPE="S">DEPARTMENT OF COMMERCE</AGENCY>
    <SUBAGY>Bureau of Industry and Security</SUBAGY>
    <CFR>15 CFR Part 744</CFR>
    <SUBJECT>{escape(rule.title)}</SUBJECT>
    <ACT><HD SOURCE="HED">ACTION: </HD><P>Final rule.</P></ACT>
    <SUM><HD SOURCE="HED">SUMMARY: </HD>
      <P>This final rule amends the Export Administration Regulations (EAR) by adding {count} entities to the Entity
      List.</P></SUM>
  </PREAMB>
  <SUPLINF>
    <HD SOURCE="HED">SUPPLEMENTARY INFORMATION: </HD>
    <P>This final rule adds the following {count} entities to the Entity List under China: {escape(listed)}.</P>
    <REGTEXT PART="744" TITLE="15">
      <AMDPAR>2. Supplement No. 4 to part 744 is amended by adding under {escape(rule.country)}, in alphabetical
      order, {count} entities to read as follows:</AMDPAR>
      <HD SOURCE="HD1">Supplement No. 4 to Part 744&#8212;Entity List</HD>
      <STARS/>
      <GPOTABLE CDEF="s50,r50,r50,r50,r50" COLS="5" OPTS="L2,i1">
      <TTITLE> </TTITLE>
      <BOXHD>
        <CHED H="1">Country</CHED>
        <CHED H="1">Entity</CHED>
        <CHED H="1">License requirement</CHED>
        <CHED H="1">License review policy</CHED>
        <CHED H="1">Federal Register citation</CHED>
      </BOXHD>
          <ROW>
            <ENT I="01">{escape(rule.country)}</ENT>
            <ENT I="22"> </ENT>
            <ENT I="22"> </ENT>
            <ENT I="22"> </ENT>
            <ENT I="22"> </ENT>
          </ROW>
          <ROW>
            <ENT I="28">*         *         *         *         *         *         *</ENT>
          </ROW>
{chr(10).join(rows)}
      </GPOTABLE>
      <STARS/>
    </REGTEXT>
  </SUPLINF>
  {filed}
  <BILCOD>BILLING CODE 3510-33-P</BILCOD>
</RULE>
"""


def search_record(rule: Rule) -> dict[str, Any]:
    """A ``documents.json`` result with the API's default fields (no full-text URLs: the poller completes it)."""
    return {
        "title": rule.title,
        "type": "Rule",
        "abstract": f"This final rule adds {_words(len(rule.entities))} entities to the Entity List.",
        "document_number": rule.document_number,
        "html_url": rule.html_url,
        "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{rule.publication_date}/pdf/{rule.document_number}.pdf",
        "public_inspection_pdf_url": rule.pi_pdf_url,
        "publication_date": rule.publication_date.isoformat(),
        "agencies": [COMMERCE, BIS],
        "excerpts": "SYNTHETIC record built by tests/backfill/synthetic.py",
    }


def document_record(rule: Rule) -> dict[str, Any]:
    """``documents/<number>.json``: the show endpoint with its full-text URLs."""
    day = rule.publication_date
    return {
        **search_record(rule),
        "action": "Final rule.",
        "citation": rule.citation,
        "start_page": rule.start_page,
        "end_page": rule.start_page + 3,
        "cfr_references": [{"title": 15, "part": 744, "chapter": None, "citation_url": None}],
        "effective_on": day.isoformat(),
        "full_text_xml_url": f"https://www.federalregister.gov/documents/full_text/xml/{day:%Y/%m/%d}/"
        f"{rule.document_number}.xml",
        "raw_text_url": f"https://www.federalregister.gov/documents/full_text/text/{day:%Y/%m/%d}/"
        f"{rule.document_number}.txt",
        **rule.extra,
    }


def pi_record(rule: Rule) -> dict[str, Any]:
    """One result of ``public-inspection-documents.json`` for the rule's filing day."""
    assert rule.filed_at is not None
    return {
        "agencies": [BIS],
        "document_number": rule.document_number,
        "filed_at": rule.filed_at.isoformat(),
        "filing_type": "special",
        "html_url": f"https://www.federalregister.gov/public-inspection/{rule.document_number}/x",
        "pdf_url": f"https://public-inspection.federalregister.gov/{rule.document_number}.pdf",
        "publication_date": rule.publication_date.isoformat(),
        "raw_text_url": None,
        "title": rule.title,
        "toc_subject": "Entity List",
        "toc_doc": rule.title,
        "type": "Rule",
        "editorial_note": None,
    }


def write_rules(
    directory: Path, rules: Sequence[Rule], *, per_page: int = 200, extra_results: Sequence[Any] = ()
) -> Path:
    """Write the rules' search pages (newest first), document records and XML into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rules, key=lambda r: (r.publication_date, r.document_number), reverse=True)
    results = [*extra_results, *(search_record(rule) for rule in ordered)]
    pages = [results[i : i + per_page] for i in range(0, len(results), per_page)] or [[]]
    for number, page in enumerate(pages, start=1):
        body: dict[str, Any] = {"description": "Documents ", "count": len(results), "total_pages": len(pages)}
        body["results"] = page
        if number < len(pages):
            body["next_page_url"] = (
                f"https://www.federalregister.gov/api/v1/documents.json?page={number + 1}&per_page={per_page}"
            )
        name = "documents_search.json" if number == 1 else f"documents_search_page{number}.json"
        (directory / name).write_text(json.dumps(body, indent=1), encoding="utf-8")
    for rule in rules:
        (directory / f"document_{rule.document_number}.json").write_text(
            json.dumps(document_record(rule), indent=1), encoding="utf-8"
        )
        (directory / f"{rule.document_number}.xml").write_text(rule_xml(rule), encoding="utf-8")
    return directory


def write_pi_day(directory: Path, day: date, rules: Sequence[Rule]) -> None:
    body = {"count": len(rules), "results": [pi_record(rule) for rule in rules]}
    (directory / f"public_inspection_{day.isoformat()}.json").write_text(json.dumps(body, indent=1), encoding="utf-8")
