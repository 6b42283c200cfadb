"""Raw-text fallback, the fallback chain, and the generic GPOTABLE reader on the real 2016 GPO sample."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from monitor.errors import FeedParseError
from monitor.feeds.extraction import extract_listing_actions
from monitor.feeds.gpotable import read_table
from monitor.feeds.raw_text import extract_from_text, split_name_list
from monitor.feeds.safe_xml import parse_untrusted_xml
from monitor.models import ActionKind, FeedName, ParseStatus
from tests.feeds.conftest import FEEDS, RULE_2019, at


def rule_2019_as_text() -> str:
    """The 2019 rule's text with the tags stripped, one block per paragraph: a stand-in for its raw .txt."""
    root = etree.fromstring((RULE_2019 / "2019-22210.xml").read_bytes())
    blocks = root.iter("HD", "P", "AMDPAR", "LI", "FRDOC")
    return "\n\n".join(" ".join("".join(element.itertext()).split()) for element in blocks)


def expected_names() -> list[str]:
    entities = json.loads((RULE_2019 / "expected_entities.json").read_text())["entities"]
    return sorted(entity["name"] for entity in entities)


def test_prose_names_every_entity_of_the_2019_rule() -> None:
    extraction = extract_from_text(rule_2019_as_text(), source=FeedName.PUBLIC_INSPECTION)
    assert sorted(action.entity_name for action in extraction.actions) == expected_names()
    assert {(a.action, a.country, a.country_iso, a.source) for a in extraction.actions} == {
        (ActionKind.ADD, "China", "CN", FeedName.PUBLIC_INSPECTION)
    }
    assert extraction.warnings == ()
    assert extraction.filed_at == at("2019-10-07T16:15:00-04:00")


def test_removals_and_revisions_in_prose() -> None:
    text = (
        "This rule removes the following two entities from the Entity List under Pakistan: Delta Works; and "
        "Epsilon Trading Co.\n\nThis rule revises the following entry on the Entity List under Russia: Zeta JSC."
    )
    actions = extract_from_text(text).actions
    assert [(a.action, a.entity_name, a.country_iso) for a in actions] == [
        (ActionKind.REMOVE, "Delta Works", "PK"),
        (ActionKind.REMOVE, "Epsilon Trading Co.", "PK"),
        (ActionKind.REVISE, "Zeta JSC", "RU"),
    ]


def test_count_mismatch_is_a_warning() -> None:
    extraction = extract_from_text("BIS adds the following three entities to the Entity List under Iran: A Co; B Co.")
    assert extraction.warnings == ("text says 3 entries to add, the list names 2",)


def test_text_without_entries_is_a_clear_error() -> None:
    with pytest.raises(FeedParseError, match="raw text names no Entity List entries"):
        extract_from_text("This rule amends the EAR to clarify license exception STA.", document_number="2030-1")


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Acme Co., Ltd.; and Beta Inc..", ["Acme Co., Ltd.", "Beta Inc."]),
        ("Alpha Works, Beta Group, and Gamma Tech.", ["Alpha Works", "Beta Group", "Gamma Tech"]),
        ("Alpha Ltd. and Beta Inc.", ["Alpha Ltd.", "Beta Inc."]),
        ("Acme Co., Ltd. The ERC also decided", ["Acme Co., Ltd."]),
        ("St. Petersburg Plant; and Omega Co. Ltd..", ["St. Petersburg Plant", "Omega Co. Ltd."]),
    ],
)
def test_split_name_list(raw: str, names: list[str]) -> None:
    assert split_name_list(raw) == names


def test_chain_prefers_xml_then_text_then_records_the_failure() -> None:
    xml = (RULE_2019 / "2019-22210.xml").read_bytes()
    text = rule_2019_as_text()
    parsed = extract_listing_actions(xml=xml, text=text, document_number="2019-22210")
    assert (parsed.status, len(parsed.actions), parsed.error) == (ParseStatus.PARSED, 28, None)
    fallback = extract_listing_actions(xml=b"<RULE><broken", text=text, document_number="2019-22210")
    assert fallback.status is ParseStatus.TEXT_FALLBACK
    assert len(fallback.actions) == 28
    assert fallback.error is not None
    assert fallback.error.startswith("XML: rule XML is not well-formed XML")
    failed = extract_listing_actions(xml=b"<RULE><broken", text="nothing useful", document_number="2019-22210")
    assert failed.status is ParseStatus.FAILED
    assert failed.actions == ()
    assert failed.error is not None
    assert "XML: rule XML is not well-formed" in failed.error
    assert "text: raw text names no Entity List entries" in failed.error
    waiting = extract_listing_actions(xml=None, text=None, xml_problem="not published yet", final=False)
    assert (waiting.status, waiting.error) == (ParseStatus.PENDING, "XML: not published yet; text: not available")


def test_gpotable_reader_on_the_2016_gpo_sample() -> None:
    root = parse_untrusted_xml((FEEDS / "fr_xml_rule_2016-08773_regtext_gpotable.xml").read_bytes())
    tables = [read_table(element) for element in root.iter("GPOTABLE")]
    first = tables[0]
    assert first.headers == (
        "Rate set",
        "For plans with a valuation date / On or after",
        "For plans with a valuation date / Before",
        "Immediate annuity rate (percent)",
        "Deferred annuities (percent) / i 1",
        "Deferred annuities (percent) / i 2",
        "Deferred annuities (percent) / i 3",
        "Deferred annuities (percent) / n 1",
        "Deferred annuities (percent) / n 2",
    )
    assert [row.is_elision for row in first.rows] == [True, True, False]
    data = first.rows[2]
    assert [cell.text for cell in data.cells] == ["271", "5-1-16", "6-1-16", "1.00", "4.00", "4.00", "4.00", "7", "8"]
    assert data.cells[0].indent == "01"
    assert first.column("rate set") == 0
    assert first.column("entity") is None
