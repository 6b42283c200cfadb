"""Pinyin spellings and acronyms derived from universe names, and what they let the matcher find.

Expected spellings are the ones Entity List rules and the companies themselves use in English (the Federal Register
writes Sugon's former name 天津曙光计算机产业 as "Tianjin Shuguang Computer Industry"); they are written here by hand,
not produced by the code under test.
"""

from __future__ import annotations

import pytest

from monitor.matching.csv_files import seed_universe
from monitor.matching.derive import _brand_syllables, _segments, acronyms, pinyin_names
from monitor.matching.index import MatchIndex, NameOrigin
from monitor.matching.matcher import Matcher
from monitor.matching.records import Universe
from monitor.models import Relation, Security
from tests.matching.listings import a_share


@pytest.mark.parametrize(
    ("chinese", "expected"),
    [
        ("天津曙光计算机产业有限公司", "Tianjin Shuguang Computer Industry"),
        ("中科曙光", "Zhongke Shuguang"),
        ("北京格灵深瞳信息技术股份有限公司", "Beijing Geling Shentong Information Technology"),
        ("南京烽火星空通信发展有限公司", "Nanjing Fenghuo Xingkong Communication Development"),
        ("深圳市中兴康讯电子有限公司", "Shenzhen Zhongxing Kangxun Electronics"),
        ("中國廣核電力股份有限公司", "China Guanghe Power"),  # traditional characters fold to simplified first
    ],
)
def test_pinyin_spelling_as_a_rule_writes_it(chinese: str, expected: str) -> None:
    assert pinyin_names(chinese)[0] == expected


def test_brand_syllables_also_joined_whole() -> None:
    assert pinyin_names("中科曙光") == ("Zhongke Shuguang", "Zhongkeshuguang")


def test_fewest_pieces_reading_keeps_the_brand_together() -> None:
    assert _segments("中国广核电力") == [("place", "中国"), ("brand", "广核"), ("word", "电力")]


def test_latin_names_have_no_pinyin() -> None:
    assert pinyin_names("Hikvision") == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Semiconductor Manufacturing International Corporation", "SMIC"),
        ("China Communications Construction Company Limited", "CCCC"),
        ("Yangtze Optical Fibre and Cable Joint Stock Limited Company", "YOFC"),
        ("China State Construction Engineering Corporation Limited", "CSCEC"),
    ],
)
def test_acronyms_of_english_names(name: str, expected: str) -> None:
    assert expected in acronyms(name)


def test_short_names_have_no_acronym() -> None:
    assert acronyms("ZTE Corporation") == ()


def _universe(*securities: Security) -> Universe:
    return Universe(tuple(securities))


_security = a_share


SUGON = _security("603019.SS", "Dawning Information Industry Co., Ltd.", "中科曙光", "曙光信息产业股份有限公司")


def test_pinyin_of_a_chinese_name_we_hold_finds_the_issuer() -> None:
    """No English alias says "Shuguang": the pinyin of 中科曙光 and 曙光信息产业 does."""
    matcher = Matcher(MatchIndex.build(_universe(SUGON)))
    [match] = matcher.match_name("Zhongke Shuguang")
    assert (match.symbol, match.relation, match.confirmed) == ("603019.SS", Relation.DIRECT, True)
    assert match.features["name_origin"] == NameOrigin.PINYIN.value
    assert "'中科曙光' in pinyin 'Zhongke Shuguang'" in match.reason
    [joined] = matcher.match_name("Zhongkeshuguang Co., Ltd.")
    assert joined.symbol == "603019.SS"


def test_the_former_chinese_name_in_pinyin_confirms_tianjin_shuguang() -> None:
    matcher = Matcher(MatchIndex.build(seed_universe()))
    found = matcher.match_name("Tianjin Shuguang Computer Industry")
    assert [(m.symbol, m.relation, m.confirmed) for m in found] == [("603019.SS", Relation.DIRECT, True)]


def test_without_the_former_name_the_current_one_still_puts_it_up_for_review() -> None:
    matcher = Matcher(MatchIndex.build(_universe(SUGON)))
    [match] = matcher.match_name("Tianjin Shuguang Computer Industry")
    assert (match.symbol, match.relation) == ("603019.SS", Relation.DIRECT)
    assert 0.80 <= match.score < 0.92
    assert not match.confirmed


def test_unique_initials_confirm_and_shared_ones_go_to_review() -> None:
    smic = _security("0981.HK", "Semiconductor Manufacturing International Corporation")
    smic_lookalike = _security("688001.SS", "Sino Medical Instruments Co., Ltd.")  # initials SMI, not SMIC
    matcher = Matcher(MatchIndex.build(_universe(smic, smic_lookalike)))
    [match] = matcher.match_name("SMIC")
    assert (match.symbol, match.confirmed, match.features["name_method"]) == ("0981.HK", True, "acronym")
    assert "by its initials 'SMIC'" in match.reason
    twins = _universe(
        _security("600001.SS", "China Coal Construction Company"),
        _security("600002.SS", "China Cable Communications Company"),
    )
    found = Matcher(MatchIndex.build(twins)).match_name("CCCC")
    assert {m.symbol for m in found} == {"600001.SS", "600002.SS"}
    assert not any(m.confirmed for m in found)


def test_initials_inside_a_longer_name_are_no_identification() -> None:
    smic = _security("0981.HK", "Semiconductor Manufacturing International Corporation")
    found = Matcher(MatchIndex.build(_universe(smic))).match_name("SMIC Foods Trading Co.")
    assert not any(m.relation is Relation.DIRECT for m in found)


@pytest.mark.parametrize(
    ("brand", "syllables"),
    [
        ("重庆长安", ("chong", "qing", "chang", "an")),  # 重 and 长 read by their phrases, not alone (zhong, zhang)
        ("长江存储", ("chang", "jiang", "cun", "chu")),
        ("招商银行", ("zhao", "shang", "yin", "hang")),  # 行 in 银行 is hang, not xing
        ("海康威视", ("hai", "kang", "wei", "shi")),
    ],
)
def test_brand_read_piece_by_piece_keeps_pypinyins_phrase_readings(brand: str, syllables: tuple[str, ...]) -> None:
    """Brands are read one pypinyin segment at a time (each segment's reading cached): polyphones keep the reading
    their phrase gives them, as when pypinyin reads the whole brand at once."""
    assert _brand_syllables(brand) == syllables
