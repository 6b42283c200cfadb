"""The matcher end to end on the shipped seed: the labelled dev set, the October 2019 rule, relations, ranking."""

from __future__ import annotations

import json

import pytest

from monitor.config import MatchingSettings
from monitor.matching.csv_files import seed_universe
from monitor.matching.evaluate import evaluate, parse_labeled
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.matching.records import CorporateLinkRecord, CounterpartyRole, ExposureRecord, LinkRole, Universe
from monitor.models import ActionKind, ListingAction, Match, Relation, Security
from tests.conftest import SHARED_DATA

RULE_2019 = SHARED_DATA / "feeds" / "entity_list_2019-22210" / "expected_entities.json"
LABELED_DEV = SHARED_DATA / "matching" / "labeled_dev.csv"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(MatchIndex.build(seed_universe()), MatchingSettings())


def rule_2019_actions() -> list[tuple[str, ListingAction]]:
    data = json.loads(RULE_2019.read_text(encoding="utf-8"))
    return [
        (
            entity["entity_kind"],
            ListingAction(
                action=ActionKind(entity["action"]),
                entity_name=entity["name"],
                aliases=tuple(entity["aliases"]),
                country=entity["country"],
                country_iso=entity["country_iso"],
                addresses=tuple(entity["addresses"]),
            ),
        )
        for entity in data["entities"]
    ]


def confirmed(matches: list[Match], relation: Relation) -> set[str]:
    return {m.symbol for m in matches if m.confirmed and m.relation is relation}


def test_labeled_dev_precision_and_recall(matcher: Matcher) -> None:
    rows = parse_labeled(LABELED_DEV.read_text(encoding="utf-8"))
    assert len(rows) == 34
    result = evaluate(matcher, rows, relations=("direct", "parent"))
    assert result.rows == 20
    assert result.precision >= 0.98, result.false_positives
    assert result.recall >= 0.95, result.missed
    assert result.none_confirmed == []


def test_labeled_dev_subsidiaries_map_to_the_listed_parent(matcher: Matcher) -> None:
    rows = parse_labeled(LABELED_DEV.read_text(encoding="utf-8"))
    result = evaluate(matcher, rows, relations=("subsidiary",))
    assert (result.rows, result.rows_found, result.false_positives) == (3, 3, [])


def test_october_2019_rule(matcher: Matcher) -> None:
    actions = rule_2019_actions()
    assert len(actions) == 28
    direct: set[str] = set()
    suppliers: set[str] = set()
    for kind, action in actions:
        matches = matcher.match(action)
        if kind == "government":
            assert matches == [], f"{action.entity_name} matched {[m.symbol for m in matches]}"
        direct |= confirmed(matches, Relation.DIRECT)
        suppliers |= confirmed(matches, Relation.SUPPLIER)
    assert {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ"} <= direct
    assert direct <= {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ", "0020.HK"}  # SenseTime listed in 2021
    assert "AMBA" in suppliers


def test_exposure_relation_is_inverted(matcher: Matcher) -> None:
    """exposures_seed says 'Hikvision is AMBA's customer', so AMBA is the supplier of the listed Hikvision."""
    matches = {(m.symbol, m.relation): m for m in matcher.match_name("Hikvision")}
    amba = matches[("AMBA", Relation.SUPPLIER)]
    assert amba.confirmed
    assert amba.method == "exposure"
    assert amba.weight is None
    assert "Ambarella, Inc. (AMBA) supplies Hangzhou Hikvision" in amba.reason
    assert matches[("6697.T", Relation.SUPPLIER)].weight == pytest.approx(0.62)
    assert ("002236.SZ", Relation.COMPETITOR) in matches
    assert not any(relation is Relation.CUSTOMER for _, relation in matches)


def test_supplier_counterparty_makes_the_security_a_customer() -> None:
    universe = Universe(
        securities=(
            Security(
                symbol="BUY",
                issuer_name="Buyer Corp",
                exchange_mic="XNYS",
                country="US",
                currency="USD",
                benchmark="^GSPC",
            ),
        ),
        exposures=(
            ExposureRecord(
                symbol="BUY", counterparty="Shenzhen Vendorco Ltd.", relation=CounterpartyRole.SUPPLIER, weight=0.3
            ),
        ),
    )
    [only] = Matcher(MatchIndex.build(universe)).match_name("Vendorco")
    assert (only.symbol, only.relation, only.weight) == ("BUY", Relation.CUSTOMER, 0.3)
    assert "Buyer Corp (BUY) buys from Shenzhen Vendorco Ltd." in only.reason


def test_unlisted_counterparty_pulls_in_its_suppliers(matcher: Matcher) -> None:
    matches = matcher.match_name("Huawei Technologies Co., Ltd.")
    assert not any(m.relation in (Relation.DIRECT, Relation.PARENT, Relation.SUBSIDIARY) for m in matches)
    assert confirmed(matches, Relation.SUPPLIER) >= {"NPTN", "LITE", "QRVO", "SWKS", "AVGO", "MU", "QCOM", "INTC"}
    weights = [m.weight for m in matches if m.weight is not None]
    assert weights == sorted(weights, reverse=True)  # equal scores rank by revenue weight
    assert matches[0].symbol == "NPTN"


def test_parent_match_expands_to_the_subsidiarys_exposures(matcher: Matcher) -> None:
    matches = matcher.match_name("China Electronics Technology Group Corporation")
    assert confirmed(matches, Relation.PARENT) == {"002415.SZ", "002268.SZ", "002368.SZ"}
    amba = next(m for m in matches if m.symbol == "AMBA")
    assert amba.relation is Relation.SUPPLIER
    assert amba.features["via"] == "002415.SZ"
    assert "controlled by the listed entity" in amba.reason
    ranks = [m.relation for m in matches]
    assert ranks.index(Relation.PARENT) < ranks.index(Relation.SUPPLIER)


def test_subsidiary_link_gives_no_exposures(matcher: Matcher) -> None:
    matches = matcher.match_name("SMIC Northern Integrated Circuit Manufacturing (Beijing) Co., Ltd.")
    assert {(m.symbol, m.relation) for m in matches} == {
        ("0981.HK", Relation.SUBSIDIARY),
        ("688981.SS", Relation.SUBSIDIARY),
    }


def test_exact_identification_drops_partial_namesakes(matcher: Matcher) -> None:
    """'Inspur Group' also partially matches Inspur Information; the exact curated entity wins."""
    matches = matcher.match_name("Inspur Group Co., Ltd.")
    assert {m.relation for m in matches} == {Relation.PARENT}


def test_review_band_is_returned_unconfirmed(matcher: Matcher) -> None:
    [match] = matcher.match_name("Yixin Science and Technology Co. Ltd.")
    assert (match.symbol, match.confirmed) == ("2858.HK", False)
    assert 0.80 <= match.score < 0.92
    assert "~ issuer alias 'Yixin'" in match.reason


def test_thresholds_come_from_settings() -> None:
    index = MatchIndex.build(seed_universe())
    strict = Matcher(index, MatchingSettings(auto_threshold=0.99, review_threshold=0.95))
    assert strict.match_name("Yixin Science and Technology Co. Ltd.") == []
    assert not strict.match_name("Hangzhou Hikvision")[0].confirmed  # 0.98: place prefix on one side only
    lenient = Matcher(index, MatchingSettings(auto_threshold=0.80, review_threshold=0.5))
    assert lenient.match_name("Yixin Science and Technology Co. Ltd.")[0].confirmed


def test_reason_names_the_alias_used(matcher: Matcher) -> None:
    action = ListingAction(action=ActionKind.ADD, entity_name="Hikvision Intl", aliases=("Hikvision",))
    [direct] = [m for m in matcher.match(action) if m.relation is Relation.DIRECT]
    assert direct.reason == "entity name 'Hikvision' = issuer alias 'Hikvision'"
    assert direct.entity_name == "Hikvision Intl"
    assert direct.features["name_method"] == "exact"


def test_country_mismatch_lowers_fuzzy_scores_only(matcher: Matcher) -> None:
    cn = matcher.match_name("Hangzhou Hikvision", country_iso="CN")[0].score
    ru = matcher.match_name("Hangzhou Hikvision", country_iso="RU")[0].score
    assert ru == pytest.approx(cn - 0.05)
    assert matcher.match_name("Hikvision", country_iso="RU")[0].score == 1.0


def test_matches_are_ranked_by_score_then_relation(matcher: Matcher) -> None:
    for name in ("Hikvision", "China General Nuclear Power Group", "Yixin Science and Technology"):
        matches = matcher.match_name(name)
        assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_linked_entity_alias_and_chinese_name(matcher: Matcher) -> None:
    assert confirmed(matcher.match_name("中国电子科技集团公司"), Relation.PARENT) == {
        "002415.SZ",
        "002268.SZ",
        "002368.SZ",
    }
    assert confirmed(matcher.match_name("CETC 38th Research Institute"), Relation.PARENT) == {"600990.SS"}


def test_custom_links_without_exposures() -> None:
    security = Security(
        symbol="1234.HK",
        issuer_name="Acme Robotics Holdings",
        exchange_mic="XHKG",
        country="CN",
        currency="HKD",
        benchmark="^HSI",
    )
    universe = Universe(
        securities=(security,),
        links=(
            CorporateLinkRecord(
                entity_name="Acme Robotics (Suzhou) Co., Ltd.", symbol="1234.HK", relation=LinkRole.SUBSIDIARY
            ),
        ),
    )
    [match] = Matcher(MatchIndex.build(universe)).match_name("Acme Robotics (Suzhou) Co. Ltd")
    assert (match.relation, match.method, match.score) == (Relation.SUBSIDIARY, "link", 1.0)


def test_match_many_matches_each_action(matcher: Matcher) -> None:
    actions = [action for _, action in rule_2019_actions()]
    assert [len(result) for result in matcher.match_many(actions)] == [len(matcher.match(action)) for action in actions]


@pytest.mark.parametrize(
    ("name", "symbol", "relation"),
    [
        ("Hangzhou Hikvision Digital Technology Co., Ltd. (Hikvision)", "002415.SZ", Relation.DIRECT),
        ("Semiconductor Manufacturing International Corporation (SMIC)", "0981.HK", Relation.DIRECT),
        ("Dahua Technology, and any successor, sub-unit, or subsidiary thereof", "002236.SZ", Relation.DIRECT),
        ("Hoshine Silicon Industry (Shanshan) Co., Ltd.", "603260.SS", Relation.SUBSIDIARY),  # a place stays
    ],
)
def test_parenthetical_asides_and_boilerplate(matcher: Matcher, name: str, symbol: str, relation: Relation) -> None:
    identifying = [m for m in matcher.match_name(name) if m.relation in (Relation.DIRECT, Relation.SUBSIDIARY)]
    assert (symbol, relation) in {(m.symbol, m.relation) for m in identifying}
    assert all(m.confirmed and m.relation is relation for m in identifying)


def test_a_brand_shared_by_several_listings_goes_to_review(matcher: Matcher) -> None:
    matches = matcher.match_name("Inspur")
    assert {m.symbol for m in matches} >= {"000977.SZ", "600756.SS", "0596.HK"}
    assert not any(m.confirmed for m in matches)
    assert "ambiguous" in matches[0].reason


def test_a_group_is_not_confirmed_as_its_listed_namesake(matcher: Matcher) -> None:
    [match] = matcher.match_name("New Hope Group")
    assert (match.symbol, match.confirmed) == ("000876.SZ", False)
    assert "perhaps its parent" in match.reason


def test_split_brand_finds_its_joined_form(matcher: Matcher) -> None:
    [match] = matcher.match_name("China Great Wall Industry Corporation")
    assert match.symbol == "000066.SZ"
    assert not match.confirmed  # CGWIC (rockets) is not China Greatwall Technology (computers)
