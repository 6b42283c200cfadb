"""Pairwise scoring: exact keys, the distinctive-token requirement, false friends and explainable penalties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.matching.lexicon import GENERIC, ORG_TYPES
from monitor.matching.normalize import normalize_name
from monitor.matching.scoring import (
    DISTINCTIVE_WEIGHT,
    GENERIC_WEIGHT,
    INNER_PLACE_PENALTY,
    ORG_TYPE_WEIGHT,
    PairScore,
    score_pair,
)


def weigh(token: str) -> float:
    if token in ORG_TYPES:
        return ORG_TYPE_WEIGHT
    return GENERIC_WEIGHT if token in GENERIC else DISTINCTIVE_WEIGHT


def score(entity: str, listed: str, descriptors: frozenset[str] = frozenset()) -> PairScore | None:
    return score_pair(normalize_name(entity), normalize_name(listed), weigh, descriptors)


def test_same_name_apart_from_legal_form_is_exact() -> None:
    result = score("Xiamen Meiya Pico Information Co. Ltd.", "Xiamen Meiya Pico Information Co., Ltd.")
    assert result is not None
    assert (result.score, result.method) == (1.0, "exact")


def test_generic_words_alone_never_match() -> None:
    """The pitfall of token_set_ratio: a subset of generic words scores 100 there, nothing here."""
    assert score("Hangzhou Digital Technology", "Hangzhou Hikvision Digital Technology Co., Ltd.") is None
    assert score("Urumqi Municipal Public Security Bureau", "360 Security Technology Inc.") is None


@pytest.mark.parametrize(
    ("entity", "listed"),
    [
        ("Hikma Pharmaceuticals", "Hikvision"),
        ("Hangzhou Dahua Technology", "Hangzhou Silan Microelectronics Co., Ltd."),
        ("Huafu Fashion", "Huafa Industrial Co., Ltd. Zhuhai"),  # one letter apart: too short for fuzzy tokens
        ("Yangtze Memory Technologies Co., Ltd.", "Yangtze Optical Fibre and Cable Joint Stock Limited Company"),
        ("ZTE Corporation", "ZTT"),
    ],
)
def test_false_friends_stay_below_review(entity: str, listed: str) -> None:
    result = score(entity, listed)
    assert result is None or result.score < 0.8


def test_generic_extras_cost_little() -> None:
    result = score("Hikvision Technology Co", "Hikvision")
    assert result is not None
    assert 0.92 <= result.score < 1.0
    two_extras = score("Hikvision Digital Technology Co", "Hikvision")
    assert two_extras is not None
    assert two_extras.score < result.score
    assert result.shared == ("hikvision",)


def test_org_type_blocks_a_company_namesake() -> None:
    result = score("Wuxi Jiangnan Institute of Computing Technology", "Jiangnan Group Limited")
    assert result is None or result.score < 0.5


def test_inner_place_marks_a_subsidiary_and_is_penalised() -> None:
    result = score("Hoshine Silicon Industry (Shanshan) Co., Ltd.", "Hoshine Silicon Industry Co., Ltd.")
    plain = score("Hoshine Silicon Industry Co.", "Hoshine Silicon Industry Co., Ltd.")
    assert result is not None
    assert plain is not None
    assert result.score == pytest.approx(plain.score - INNER_PLACE_PENALTY)
    assert any("shanshan" in penalty for penalty in result.penalties)


def test_place_prefix_on_one_side_is_nearly_free() -> None:
    result = score("Hangzhou Hikvision", "Hikvision")
    assert result is not None
    assert result.method == "core"
    assert result.score == pytest.approx(0.98)


def test_misspelt_long_token_is_found_but_left_for_review() -> None:
    result = score("Hikvison", "Hikvision")
    assert result is not None
    assert result.fuzzy == ("hikvison~hikvision",)
    assert 0.8 <= result.score < 0.92


def test_descriptor_conflict_pushes_a_namesake_into_review() -> None:
    with_conflict = score("China Greatwall Industry Corporation", "China Greatwall", frozenset({"technology", "group"}))
    without = score("China Greatwall Industry Corporation", "China Greatwall")
    assert with_conflict is not None
    assert without is not None
    assert with_conflict.score < 0.92 <= without.score


def test_chinese_names_match_by_alias_not_similarity() -> None:
    exact = score("杭州海康威视数字技术股份有限公司", "杭州海康威视数字技术股份有限公司")
    core = score("海康威视数字技术", "杭州海康威视数字技术股份有限公司")
    assert exact is not None
    assert exact.method == "han_exact"
    assert core is not None
    assert core.method == "han_core"
    assert core.score >= 0.92
    assert score("美亚柏科", "美亚光电") is None  # Meiya Pico vs Meyer Optoelectronic share two characters


_names = st.lists(
    st.sampled_from(["hikvision", "dahua", "digital", "technology", "pico", "beijing", "institute", "group", "zte"]),
    min_size=1,
    max_size=6,
).map(" ".join)


@given(_names, _names)
def test_scores_stay_between_zero_and_one(entity: str, listed: str) -> None:
    result = score(entity, listed)
    if result is not None:
        assert 0.0 <= result.score <= 1.0
        assert (result.score == 1.0) == (result.method in ("exact", "han_exact"))


@given(_names)
def test_a_name_with_a_distinctive_token_matches_itself_exactly(name: str) -> None:
    result = score(name, name.upper() + " Co., Ltd.")
    if normalize_name(name).key:
        assert result is not None
        assert result.score == 1.0
