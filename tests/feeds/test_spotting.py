"""Name spotting finds universe names anywhere in a rule's text, confirmed by the matcher's normalization."""

from __future__ import annotations

from monitor.feeds.spotting import NameSpotter, pattern_of
from tests.feeds import renderings as r
from tests.feeds.conftest import RULE_2019

UNIVERSE = [  # issuer names and curated aliases as the seed universe writes them (shared/data/matching)
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "002415.SZ"),
    ("Hikvision", "002415.SZ"),
    ("Zhejiang Dahua Technology Co., Ltd.", "002236.SZ"),
    ("Dahua Technology", "002236.SZ"),
    ("iFLYTEK Co., Ltd.", "002230.SZ"),
    ("Xiamen Meiya Pico Information Co., Ltd.", "300188.SZ"),
    ("Ambarella, Inc.", "AMBA"),
    ("China", "NOT-A-NAME"),  # a place alone is never spotted
]


def test_spots_listed_names_in_a_table_whatever_the_preamble_says() -> None:
    model = r.without_named_preamble(r.as_public_inspection(r.load_rule(RULE_2019 / "2019-22210.xml")))
    text = r.fr_text(model)
    spots = NameSpotter.build(UNIVERSE).spot(text)
    symbols = {spot.payload for spot in spots}
    # Names a column wraps beside other columns' words ("Xiamen Meiya Pico" / "Information Co. Ltd.") are
    # interrupted in the running text; the table parse recovers those, spotting the rest.
    assert {"002415.SZ", "002236.SZ", "002230.SZ"} <= symbols
    assert "NOT-A-NAME" not in symbols
    hikvision = next(spot for spot in spots if spot.payload == "002415.SZ")
    assert "Hikvision" in hikvision.sentence
    assert text[hikvision.start : hikvision.end] == hikvision.found


def test_a_name_in_prose_or_a_footnote_carries_its_sentence() -> None:
    text = (
        "Background.\n\n    BIS notes that the entities supply cameras built on chips from Ambarella, Inc. and "
        "others. Unrelated sentence about China.\n\n\\1\\ See also Hikvision's filings."
    )
    spots = NameSpotter.build(UNIVERSE).spot(text)
    assert [(s.payload, s.found) for s in spots] == [("AMBA", "Ambarella"), ("002415.SZ", "Hikvision")]
    assert spots[0].sentence.startswith("BIS notes that the entities supply cameras")
    assert "Unrelated" not in spots[0].sentence


def test_patterns_drop_trailing_legal_forms_only() -> None:
    assert pattern_of("Hangzhou Hikvision Digital Technology Co., Ltd.") == (
        "hangzhou", "hikvision", "digital", "technology"
    )  # fmt: skip
    assert pattern_of("Co-Op Bank Ltd.")[:1] == ("co",)
