"""Exposure weights that count: a disclosed revenue share raises a supplier's score and rank, with its year and source.

The shares are the public disclosures in the shipped seed (Techpoint: Hikvision 62% of 2018 revenue; NeoPhotonics:
Huawei 46% of 2018 revenue; Lumentum 18%, Qorvo 15%, Skyworks 12%, Micron 10%, Broadcom 4%; Intel and Qualcomm
undisclosed), so the expected order is read off those disclosures, not computed by the code under test.
"""

from __future__ import annotations

from monitor.matching.csv_files import parse_exposures, seed_universe
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.models import Relation


def suppliers(name: str) -> list[tuple[str, float | None]]:
    matcher = Matcher(MatchIndex.build(seed_universe()))
    return [(m.symbol, m.weight) for m in matcher.match_name(name) if m.relation is Relation.SUPPLIER]


def test_suppliers_of_huawei_rank_by_disclosed_share_and_undisclosed_last_but_small() -> None:
    ranked = suppliers("Huawei Technologies Co., Ltd.")
    assert [symbol for symbol, _ in ranked[:5]] == ["NPTN", "LITE", "QRVO", "SWKS", "MU"]
    assert {symbol for symbol, weight in ranked if weight is None} == {"INTC", "QCOM"}
    positions = {symbol: index for index, (symbol, _) in enumerate(ranked)}
    assert positions["MU"] < positions["INTC"] < positions["AVGO"]  # undisclosed ranks like a few percent


def test_a_62_percent_supplier_outranks_undisclosed_ones_and_says_why() -> None:
    matcher = Matcher(MatchIndex.build(seed_universe()))
    found = [m for m in matcher.match_name("Hikvision") if m.relation is Relation.SUPPLIER]
    assert found[0].symbol == "6697.T"
    assert found[0].score > found[1].score
    assert {m.symbol for m in found[1:]} == {"AMBA", "NVDA", "INTC", "WDC", "STX"}
    assert all(m.confirmed for m in found)  # the share ranks a supplier; the counterparty's name confirms it
    assert "(62% of 2018 revenue; source: Reuters 2019-10-08" in found[0].reason
    assert found[0].features["exposure_year"] == "2018"
    assert "revenue share undisclosed" in found[1].reason


def test_year_column_is_optional_and_checked() -> None:
    text = (
        "ticker,counterparty,relation,weight,source,year\n"
        "AMBA,Hikvision,customer,0.1,x,2018\n"
        "NVDA,Hikvision,customer,,,18\n"
    )
    parsed = parse_exposures(text)
    assert [record.year for record in parsed.records] == [2018]
    assert [str(error) for error in parsed.errors] == ["line 3: year '18' is not a fiscal year like 2018"]
