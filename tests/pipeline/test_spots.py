"""Spots merged with parsed matches: only names no parsed entity explains, below confirmed matches.

Inputs: SYNTHETIC securities with real issuer names; the sentence is written like the 2020 SMIC rule's preamble.
"""

from __future__ import annotations

from monitor.models import Match, Relation, Security
from monitor.pipeline.facts import best_by_symbol
from monitor.pipeline.spots import build_spotter, spotted_matches, spotter_for


def security(symbol: str, issuer: str, *aliases: str) -> Security:
    return Security(
        symbol=symbol,
        issuer_name=issuer,
        aliases=aliases,
        exchange_mic="XHKG",
        country="CN",
        currency="HKD",
        benchmark="^HSI",
    )


UNIVERSE = {
    s.symbol: s
    for s in (
        security("0981.HK", "Semiconductor Manufacturing International Corporation", "SMIC"),
        security("0020.HK", "SenseTime Group Inc.", "SenseTime"),
    )
}
TEXT = (
    "This rule adds SMIC and ten of its related entities to the Entity List. "
    "Comments on SenseTime were received. The table follows."
)


def test_a_spot_no_parsed_entity_explains_is_named_in_the_text_with_its_sentence() -> None:
    spotter = build_spotter(UNIVERSE.values())
    parsed = Match(
        symbol="0981.HK", issuer="SMIC", relation=Relation.DIRECT, score=0.97, confirmed=True, reason="entity name"
    )
    spots = spotted_matches(spotter, TEXT, {"0981.HK": parsed}, UNIVERSE)
    assert [m.symbol for m in spots] == ["0020.HK"]
    spot = spots[0]
    assert spot.relation is Relation.NAMED
    assert not spot.confirmed
    assert "Comments on SenseTime were received." in spot.reason
    assert list(best_by_symbol([*spots, parsed])) == ["0981.HK", "0020.HK"]


def test_no_text_no_spots() -> None:
    assert spotted_matches(build_spotter(UNIVERSE.values()), None, {}, UNIVERSE) == []


class Index:
    """What ``spotter_for`` reads of a ``MatchIndex``: its securities."""

    def __init__(self, securities: dict[str, Security]) -> None:
        self.securities = securities


def test_pipelines_holding_one_index_share_one_spotter_and_a_new_index_gets_its_own() -> None:
    index = Index(UNIVERSE)
    first = spotter_for(index)
    assert spotter_for(index) is first  # the daemon's second pipeline: no second automaton
    assert {spot.payload for spot in first.spot(TEXT)} == {"0981.HK", "0020.HK"}
    grown = Index({**UNIVERSE, "9988.HK": security("9988.HK", "Alibaba Group Holding Limited", "Alibaba")})
    second = spotter_for(grown)
    assert second is not first
    assert {spot.payload for spot in second.spot(TEXT + " Alibaba replied.")} == {"0981.HK", "0020.HK", "9988.HK"}
