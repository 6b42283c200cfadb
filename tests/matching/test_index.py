"""The index: targets, token weights from the universe, counterparty resolution and near-token lookup."""

from __future__ import annotations

from monitor.matching.csv_files import seed_universe
from monitor.matching.index import MatchIndex, TargetKind
from monitor.matching.normalize import normalize_name
from monitor.matching.records import CounterpartyRole, ExposureRecord, Universe
from monitor.matching.scoring import DISTINCTIVE_WEIGHT, GENERIC_WEIGHT, ORG_TYPE_WEIGHT
from monitor.models import Security


def security(symbol: str, name: str, *aliases: str) -> Security:
    return Security(
        symbol=symbol,
        issuer_name=name,
        aliases=aliases,
        exchange_mic="XSHE",
        country="CN",
        currency="CNY",
        benchmark="000300.SS",
    )


def test_dual_listings_form_one_issuer_target() -> None:
    index = MatchIndex.build(seed_universe())
    smic = index.targets[index.issuer_of_symbol["0981.HK"]]
    assert smic.kind is TargetKind.ISSUER
    assert {s.symbol for s in smic.securities} == {"0981.HK", "688981.SS"}
    assert index.issuer_of_symbol["688981.SS"] == index.issuer_of_symbol["0981.HK"]


def test_exposure_counterparties_resolve_to_issuers_or_become_targets() -> None:
    index = MatchIndex.build(seed_universe())
    hikvision = index.issuer_of_symbol["002415.SZ"]
    assert {e.symbol for e in index.exposures_of[hikvision]} >= {"AMBA", "6697.T", "002236.SZ"}
    huawei = [n for n, t in enumerate(index.targets) if t.kind is TargetKind.COUNTERPARTY]
    assert [index.targets[n].name for n in huawei] == ["Huawei Technologies Co., Ltd."]
    assert len(index.exposures_of[huawei[0]]) == 8


def test_weights_follow_word_lists_and_universe_frequency() -> None:
    many = tuple(security(f"00000{n}.SZ", f"Zhongxing Brand{n} Co., Ltd.") for n in range(8))
    index = MatchIndex.build(Universe(many))
    assert index.weight("zhongxing") == GENERIC_WEIGHT  # on 8 issuers: more than the cut-off of 5
    assert index.weight("brand3") == DISTINCTIVE_WEIGHT
    assert index.weight("technology") == GENERIC_WEIGHT
    assert index.weight("institute") == ORG_TYPE_WEIGHT
    assert index.weight("neverseen") == DISTINCTIVE_WEIGHT
    assert "zhongxing" not in index.postings


def test_similar_tokens_cover_one_edit() -> None:
    index = MatchIndex.build(Universe((security("1.SZ", "Hikvision"), security("2.SZ", "Sunway"))))
    assert index.similar_tokens("hikvison") == {"hikvision"}  # deletion
    assert index.similar_tokens("hikvizion") == {"hikvision"}  # substitution
    assert index.similar_tokens("hikivsion") == {"hikvision"}  # transposition
    assert index.similar_tokens("sunwa") == set()  # too short for fuzzy lookup
    assert index.similar_tokens("sunwai") == {"sunway"}
    assert index.similar_tokens("hikvision") == set()


def test_candidates_come_from_keys_and_distinctive_tokens_only() -> None:
    index = MatchIndex.build(
        Universe(
            (
                security("1.SZ", "Hangzhou Hikvision Digital Technology", "Hikvision"),
                security("2.SZ", "Digital China Holdings"),
            )
        )
    )
    found = {index.variants[n].form.original for n in index.candidates(normalize_name("Hikvision Digital"))}
    assert found == {"Hangzhou Hikvision Digital Technology", "Hikvision"}
    assert index.candidates(normalize_name("Digital Technology")) == set()


def test_exposures_to_symbols_outside_the_universe_are_dropped() -> None:
    universe = Universe(
        (security("1.SZ", "Acme"),),
        exposures=(ExposureRecord(symbol="GONE", counterparty="Acme", relation=CounterpartyRole.CUSTOMER),),
    )
    index = MatchIndex.build(universe)
    assert index.exposures_of == {}
    assert index.stats == {"securities": 1, "targets": 1, "names": 1, "distinctive_tokens": 1}


def test_names_lists_every_name_with_its_symbols_including_derived_ones() -> None:
    from monitor.matching.csv_files import seed_universe
    from monitor.matching.index import MatchIndex, NameOrigin

    names = list(MatchIndex.build(seed_universe()).names())
    by_text = {(name.text, name.origin): name for name in names}
    assert by_text[("Hikvision", NameOrigin.ALIAS)].symbols == ("002415.SZ",)
    assert by_text[("Tianjin Shuguang Computer Industry", NameOrigin.PINYIN)].symbols == ("603019.SS",)
    assert by_text[("SMIC", NameOrigin.ALIAS)].form.key == "smic"
    cetc = by_text[("China Electronics Technology Group Corporation", NameOrigin.NAME)]
    assert set(cetc.symbols) >= {"002415.SZ", "002268.SZ", "002368.SZ"}
