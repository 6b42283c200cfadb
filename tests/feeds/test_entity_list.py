"""Entity List extraction: the October 2019 rule exactly, a synthetic add/revise/remove rule, and fuzzing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import FeedParseError
from monitor.feeds.amendments import clean_name, number_from_words, parse_clauses, supplement_number
from monitor.feeds.entity_list import Extraction, extract_from_xml, parse_entity_cell
from monitor.feeds.gpotable import Cell
from monitor.models import ActionKind
from tests.feeds.conftest import FEED_FIXTURES, FEEDS, RULE_2019, at, load_json


def parse_or_error(call: Callable[[], Extraction]) -> Extraction | str:
    """The extraction, or the FeedParseError message; any other exception propagates and fails the test."""
    try:
        return call()
    except FeedParseError as exc:
        return str(exc)


FIELDS = (
    "name", "aliases", "country", "country_iso", "addresses", "action",
    "license_requirement", "license_review_policy", "federal_register_citation",
)  # fmt: skip


def as_expected(action: object) -> dict[str, object]:
    from monitor.commands.feeds_cmd import action_json

    return action_json(action)  # type: ignore[arg-type]


def test_october_2019_rule_matches_the_expected_entities_exactly() -> None:
    expected = load_json(RULE_2019 / "expected_entities.json")
    extraction = extract_from_xml((RULE_2019 / "2019-22210.xml").read_bytes(), document_number="2019-22210")
    got = [as_expected(action) for action in extraction.actions]
    want = [{key: entity[key] for key in FIELDS} for entity in expected["entities"]]
    assert got == want
    assert len(got) == expected["counts"]["total"] == expected["counts"]["add"]
    assert extraction.warnings == ()
    assert extraction.title == "Addition of Certain Entities to the Entity List"
    assert (extraction.frdoc_number, extraction.filed_at) == ("2019-22210", at("2019-10-07T16:15:00-04:00"))


def test_synthetic_rule_adds_revises_and_removes_at_once() -> None:
    extraction = extract_from_xml((FEED_FIXTURES / "synthetic_mixed_rule.xml").read_bytes())
    by_name = {action.entity_name: action for action in extraction.actions}
    assert [(a.action, a.entity_name, a.country_iso) for a in extraction.actions] == [
        (ActionKind.ADD, "Alpha Optics Co., Ltd.", "CN"),
        (ActionKind.ADD, "Beta Robotics", "CN"),
        (ActionKind.REVISE, "Gamma Semiconductor Institute", "CN"),
        (ActionKind.ADD, "Zeta Avionics JSC", "RU"),
        (ActionKind.REMOVE, "Delta Engineering Works", "PK"),
        (ActionKind.REMOVE, "Epsilon Trading Company", "PK"),
    ]
    alpha = by_name["Alpha Optics Co., Ltd."]
    assert alpha.aliases == ("Alpha Optical", "AOC")
    assert alpha.addresses == ("No. 1 Example Road, Wuhan, Hubei, China", "No. 2 Example Road, Wuhan, Hubei, China")
    assert alpha.federal_register_citation is None  # "[INSERT FR PAGE NUMBER]" placeholder
    assert by_name["Beta Robotics"].aliases == ("BR Automation",)
    assert by_name["Gamma Semiconductor Institute"].license_review_policy == "Case-by-case review."
    assert by_name["Delta Engineering Works"].country == "PAKISTAN"
    assert "Military End User Example Factory" not in by_name  # Supplement No. 7 is not the Entity List
    assert extraction.filed_at == at("2024-02-28T11:15:00-05:00")


def test_a_rule_that_is_not_an_entity_list_rule_is_a_clear_error() -> None:
    data = (FEEDS / "fr_xml_rule_2016-08773_regtext_gpotable.xml").read_bytes()
    with pytest.raises(FeedParseError, match=r"^2016-08773: rule XML has no Entity List amendment"):
        extract_from_xml(data, document_number="2016-08773")


def test_entity_cell_variants() -> None:
    cell = Cell(head="IFLYTEK, a.k.a., the following two aliases:", lines=("—IFLYTEK Co., Ltd.; and", "—iFlytek.",
                "No. 666 Wangjiang West Road, Hefei, Anhui, China."), indent=None)  # fmt: skip
    assert parse_entity_cell(cell) == (
        "IFLYTEK",
        ["IFLYTEK Co., Ltd.", "iFlytek"],
        ["No. 666 Wangjiang West Road, Hefei, Anhui, China"],
    )
    no_alias = Cell(head="Yixin Science and Technology Co. Ltd.,", lines=("Xinjiang, China.",), indent=None)
    assert parse_entity_cell(no_alias) == ("Yixin Science and Technology Co. Ltd.", [], ["Xinjiang, China"])
    fka = Cell(head="New Name LLC, f.k.a., Old Name LLC.", lines=("Dubai, U.A.E.; and Sharjah, U.A.E.",), indent=None)
    assert parse_entity_cell(fka) == ("New Name LLC", ["Old Name LLC"], ["Dubai, U.A.E", "Sharjah, U.A.E"])


def test_amendment_clauses() -> None:
    (clause,) = parse_clauses(
        "2. Supplement No. 4 to part 744 is amended by adding under CHINA, PEOPLE'S REPUBLIC OF, in alphabetical "
        "order, twenty-eight Chinese entities to read as follows:"
    )
    assert (clause.kind, clause.country, clause.names, clause.count) == (
        ActionKind.ADD, "CHINA, PEOPLE'S REPUBLIC OF", (), 28,
    )  # fmt: skip
    assert parse_clauses("1. The authority citation for 15 CFR part 744 continues to read as follows:") == []
    kinds = [c.kind for c in parse_clauses("By removing under IRAN the entry for “X Co.”; and by modifying “Y”.")]
    assert kinds == [ActionKind.REMOVE, ActionKind.REVISE]
    assert supplement_number("Supplement No. 7 to part 744 is amended") == 7
    assert [number_from_words(w) for w in ("one", "twenty-eight", "12", "many")] == [1, 28, 12, None]
    assert [clean_name(n) for n in ("Acme Trading.", "Beta Co., Ltd.", "S.A.", "Gamma,")] == [
        "Acme Trading", "Beta Co., Ltd.", "S.A.", "Gamma",
    ]  # fmt: skip


_TAGS = ("RULE", "REGTEXT", "AMDPAR", "GPOTABLE", "BOXHD", "CHED", "ROW", "ENT", "LI", "HD", "SU", "E", "PRTPAGE")
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(
    lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)
_ATTRS = st.sampled_from(["", ' PART="744"', ' I="01"', ' I="22"', ' I="28"', ' H="1"', ' H="2"', ' PART="744, 746"'])


def _tree(depth: int = 0) -> st.SearchStrategy[str]:
    words = st.sampled_from(
        ["Supplement No. 4 to part 744 is amended by adding under CHINA,", "by removing “Acme”", "*  *  *",
         "Entity", "Country", "License review policy", "—alias;", "a.k.a., the following two aliases:", "[Reserved]"]
    )  # fmt: skip
    leaf = st.one_of(_TEXT, words)
    if depth > 4:
        return leaf
    child = st.deferred(lambda: _tree(depth + 1))
    element = st.builds(
        lambda tag, attrs, kids: f"<{tag}{attrs}>{''.join(kids)}</{tag}>",
        st.sampled_from(_TAGS), _ATTRS, st.lists(st.one_of(leaf, child), max_size=4),
    )  # fmt: skip
    return element


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=2000)
@given(body=_tree())
def test_extractor_never_crashes_on_arbitrary_rule_like_xml(body: str) -> None:
    outcome = parse_or_error(lambda: extract_from_xml(f"<RULE>{body}</RULE>"))
    if isinstance(outcome, str):
        assert outcome  # a clear, non-empty message
    else:
        assert all(action.entity_name for action in outcome.actions)


@settings(max_examples=150, deadline=2000)
@given(data=st.binary(max_size=400))
def test_extractor_never_crashes_on_arbitrary_bytes(data: bytes) -> None:
    outcome = parse_or_error(lambda: extract_from_xml(data))
    assert not isinstance(outcome, str) or outcome
