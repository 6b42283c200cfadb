"""Subsidiaries proposed by name: an entity that embeds a listed issuer's name with a place or division qualifier.

The cases are the issue's own (Entity List entities of 2019–2020 whose listed parents are public facts): CCCC's
dredging arm, FiberHome's Nanjing Starrysky unit, SMIC's Beijing fab, ZTE's Kangxun. A proposal is always a review
item with its reason; a curated link for the same entity confirms it.
"""

from __future__ import annotations

from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.matching.records import CorporateLinkRecord, LinkRole, Universe
from monitor.models import Relation
from tests.matching.listings import a_share

_security = a_share


CCCC = _security("601800.SS", "China Communications Construction Company Limited")
FIBERHOME = _security("600498.SS", "FiberHome Telecommunication Technologies Co., Ltd.", "FiberHome")
SMIC = _security("688981.SS", "Semiconductor Manufacturing International Corporation", "SMIC")
ZTE = _security("000063.SZ", "ZTE Corporation", "ZTE")
HIKVISION = _security("002415.SZ", "Hangzhou Hikvision Digital Technology Co., Ltd.", "Hikvision")
UNIVERSE = Universe((CCCC, FIBERHOME, SMIC, ZTE, HIKVISION))


def only(name: str, universe: Universe = UNIVERSE) -> list[tuple[str, Relation, bool]]:
    return [(m.symbol, m.relation, m.confirmed) for m in Matcher(MatchIndex.build(universe)).match_name(name)]


def test_a_division_of_a_listed_name_is_proposed_as_its_subsidiary() -> None:
    [match] = Matcher(MatchIndex.build(UNIVERSE)).match_name("China Communications Construction Company Dredging Group")
    assert (match.symbol, match.relation, match.confirmed) == ("601800.SS", Relation.SUBSIDIARY, False)
    assert match.method == "name_embedded"
    assert "qualified by 'dredging group'" in match.reason
    assert "proposed as a subsidiary of China Communications Construction Company Limited" in match.reason


def test_a_unit_under_the_parents_brand_is_proposed() -> None:
    assert only("Nanjing FiberHome Starrysky Communication Development Co., Ltd.") == [
        ("600498.SS", Relation.SUBSIDIARY, False)
    ]


def test_a_place_after_the_name_marks_a_subsidiary_not_the_issuer() -> None:
    assert only("Semiconductor Manufacturing International (Beijing) Corporation") == [
        ("688981.SS", Relation.SUBSIDIARY, False)
    ]
    assert only("ZTE Kangxun Telecom Co., Ltd.") == [("000063.SZ", Relation.SUBSIDIARY, False)]


def test_descriptors_or_a_home_town_are_still_the_issuer_itself() -> None:
    assert only("Hikvision Digital Technology") == [("002415.SZ", Relation.DIRECT, True)]
    assert only("Hangzhou Hikvision") == [("002415.SZ", Relation.DIRECT, True)]


def test_an_institute_named_after_a_brand_is_no_subsidiary_by_name() -> None:
    assert not any(relation is Relation.SUBSIDIARY for _, relation, _ in only("Hikvision Research Institute"))


def test_a_curated_link_confirms_what_the_name_proposed() -> None:
    link = CorporateLinkRecord(
        entity_name="CCCC Dredging (Group) Co., Ltd.",
        aliases=("China Communications Construction Company Dredging Group",),
        symbol="601800.SS",
        relation=LinkRole.SUBSIDIARY,
        source="CCCC annual report",
    )
    universe = Universe(UNIVERSE.securities, links=(link,))
    assert only("China Communications Construction Company Dredging Group", universe) == [
        ("601800.SS", Relation.SUBSIDIARY, True)
    ]
