"""Normalization: legal forms in English and Chinese, full-width forms, punctuation, places, plurals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.matching.normalize import entity_names, fold_token, normalize_name


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Hangzhou Hikvision Digital Technology Co., Ltd.", "hangzhouhikvisiondigitaltechnology"),
        ("Zhejiang Dahua Technology Co.,Ltd.", "zhejiangdahuatechnology"),
        ("Xiamen Meiya Pico Information Co. Ltd.", "xiamenmeiyapicoinformation"),
        ("ZTE Corporation", "zte"),
        ("Cambricon Technologies Corporation Limited", "cambricontechnology"),
        ("Yangtze Optical Fibre and Cable Joint Stock Limited Company", "yangtzeopticalfibrecable"),
        ("Ambarella, Inc.", "ambarella"),
        ("Seagate Technology Holdings plc", "seagatetechnologyholding"),
        ("ＺＴＥ　Ｃｏｒｐｏｒａｔｉｏｎ", "zte"),  # full-width letters and space
        ("Sense Time", "sensetime"),
        ("SenseTime", "sensetime"),
        ("O-Film Group Co., Ltd.", "ofilmgroup"),
        ("Société Générale S.A.", "societegenerale"),
    ],
)
def test_keys_ignore_legal_forms_case_and_punctuation(name: str, key: str) -> None:
    assert normalize_name(name).key == key


@pytest.mark.parametrize(
    ("name", "han", "core"),
    [
        ("杭州海康威视数字技术股份有限公司", "杭州海康威视数字技术", "海康威视数字技术"),
        ("浙江大华技术股份有限公司", "浙江大华技术", "大华技术"),
        ("厦门市美亚柏科信息股份有限公司", "厦门市美亚柏科信息", "美亚柏科信息"),
        ("中微半导体设备(上海)股份有限公司", "中微半导体设备上海", "中微半导体设备"),
        ("浪潮集团有限公司", "浪潮集团", "浪潮"),  # 集团 stays in the name: the group is not its brand
        ("ＳＭＩＣ中芯国际", "中芯国际", "中芯国际"),
    ],
)
def test_chinese_legal_suffixes_and_place_prefixes(name: str, han: str, core: str) -> None:
    form = normalize_name(name)
    assert (form.han, form.han_core) == (han, core)


def test_places_are_set_aside_and_inner_places_noted() -> None:
    prefixed = normalize_name("Hangzhou Hikvision Digital Technology Co., Ltd.")
    assert prefixed.places == ("hangzhou",)
    assert prefixed.inner_places == ()
    assert prefixed.tokens == ("hikvision", "digital", "technology")
    qualified = normalize_name("Semiconductor Manufacturing International (Beijing) Corporation")
    assert qualified.inner_places == ("beijing",)
    assert "beijing" not in qualified.core_key
    assert normalize_name("SMIC Hong Kong International").places == ("hongkong",)


def test_org_types_are_visible() -> None:
    assert normalize_name("Xinjiang Police College").org_types == {"police", "college"}
    assert normalize_name("Hikvision").org_types == frozenset()


@pytest.mark.parametrize(
    ("token", "folded"),
    [
        ("technologies", "technology"),
        ("holdings", "holding"),
        ("13th", "13"),
        ("skyworks", "skywork"),
        ("sugon", "sugon"),
    ],
)
def test_fold_token(token: str, folded: str) -> None:
    assert fold_token(token) == folded


_words = st.sampled_from(["hikvision", "dahua", "digital", "technology", "pico", "meiya", "zte", "sensetime"])


@given(
    st.lists(_words, min_size=1, max_size=5),
    st.sampled_from(["Co., Ltd.", "Co.,Ltd.", "Corporation", "Inc.", "Limited", ""]),
)
def test_legal_form_and_case_never_change_the_key(words: list[str], legal: str) -> None:
    plain = " ".join(words)
    assert normalize_name(f"{plain.upper()} {legal}").key == normalize_name(plain).key


@given(st.lists(_words, min_size=1, max_size=5), st.sampled_from([", ", " - ", ". ", " (", " & "]))
def test_punctuation_between_words_never_changes_the_key(words: list[str], separator: str) -> None:
    # "&" reads as "and", a stopword, so it vanishes like the other separators
    once = "".join(dict.fromkeys(words))  # a repeated word counts once
    assert normalize_name(separator.join(words)).key == normalize_name(" ".join(words)).key == once


@given(st.text(max_size=60))
def test_any_text_normalizes_without_error(text: str) -> None:
    form = normalize_name(text)
    assert form.key == form.key.casefold()
    assert " " not in form.key
    assert set(form.core_key) <= set(form.key)


def test_entity_names_drop_asides_but_keep_place_qualifiers() -> None:
    assert entity_names("Semiconductor Manufacturing International Corporation (SMIC)") == [
        "Semiconductor Manufacturing International Corporation (SMIC)",
        "Semiconductor Manufacturing International Corporation",
    ]
    assert entity_names("Hoshine Silicon Industry (Shanshan) Co., Ltd.") == [
        "Hoshine Silicon Industry (Shanshan) Co., Ltd."
    ]
    assert entity_names("Dahua Technology, and any successor, sub-unit, or subsidiary thereof")[1] == "Dahua Technology"
    assert normalize_name("Dahua Technology and all subsidiaries").key == "dahuatechnology"


@pytest.mark.parametrize(
    "name",
    [
        "DAHUA TECHNOLOGY AND ITS SUBSIDIARIES",  # ASCII: found by the quick word search first
        "Dahua Technology, including any Affiliates",
        "Dahua Technology and all sub-units",
        "Dahua Technology (大华) and its subsidiaries",  # not ASCII: the case-insensitive pattern alone
        "Dahua Technology and any ſuccessors",  # a long s, which only the pattern reads as an s
    ],
)
def test_boilerplate_is_dropped_in_any_case_and_script(name: str) -> None:
    assert normalize_name(name).key == "dahuatechnology"


def test_legal_forms_in_many_languages_come_from_rigour() -> None:
    assert normalize_name("Romashka OOO").key == normalize_name("Romashka").key
    assert normalize_name("Siemens Aktiengesellschaft").key == normalize_name("Siemens AG").key
    assert normalize_name("Acme Sdn Bhd").key == "acme"
    assert normalize_name("Общество с ограниченной ответственностью Ромашка").key == "romashka"


def test_scripts_are_transliterated_and_traditional_han_folded() -> None:
    assert normalize_name("Łódź Widgets").key == "lodzwidget"
    assert (
        normalize_name("中國廣核電力股份有限公司").han
        == normalize_name("中国广核电力股份有限公司").han
        == "中国广核电力"
    )


def test_words_keep_places_in_order() -> None:
    assert normalize_name("China Communications Construction Company Limited").words == (
        "china",
        "communication",
        "construction",
    )
