"""Name spotting finds universe names anywhere in a rule's text, confirmed by the matcher's normalization."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.feeds.spotting import NameSpotter, Spot, pattern_of
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


def test_names_meet_whatever_their_spacing() -> None:
    # The 2019 rule writes "Sense Time"; the company writes "SenseTime" (the matcher's key has them meet).
    spotter = NameSpotter.build([("SenseTime", "0020.HK"), ("Mega Vision", "MV")])
    spots = spotter.spot("The eight commercial entities are IFLYTEK; Megvii Technology; Sense Time; and MegaVision.")
    assert [(s.payload, s.found) for s in spots] == [("0020.HK", "Sense Time"), ("MV", "MegaVision")]


def test_a_name_inside_a_longer_word_is_not_spotted() -> None:
    spotter = NameSpotter.build([("Dahua Technology", "002236.SZ"), ("Meiya Pico", "300188.SZ")])
    text = "Supplier: Megadahua Technology and Meiya Picometrics; Dahua Technologies."
    assert spotter.spot(text) == [
        Spot("Dahua Technology", "002236.SZ", "Dahua Technologies", 54, 72, "Dahua Technologies.")
    ]


_FILLER = ["the", "entity", "report", "cameras", "supplies", "Xinjiang,", "(see", "ECCN", "1A004.c;", "Unit", "7."]
_NAMES = [("Hangzhou Hikvision Digital Technology", "H"), ("Dahua Technology", "D"), ("Xiamen Meiya Pico", "X")]


@given(
    pieces=st.lists(st.one_of(st.sampled_from(_FILLER), st.sampled_from(_NAMES)), min_size=1, max_size=30),
    gaps=st.lists(st.sampled_from([" ", "  ", "\n", "\n                   ", " -- ", "; ", ", "]), min_size=30),
    upper=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_every_name_written_anywhere_is_spotted_at_its_place(
    pieces: list[str | tuple[str, str]], gaps: list[str], upper: bool
) -> None:
    # Expected places come from how the text is built, not from the spotter: each name's words, wrapped and
    # spaced as a fixed-width rendering does, at a known offset.
    text = ""
    expected: list[tuple[str, int, int]] = []
    for index, piece in enumerate(pieces):
        text += gaps[index]
        if isinstance(piece, tuple):
            words = piece[0].split()
            written = words[0] + "".join(gaps[(index + k) % len(gaps)] + word for k, word in enumerate(words[1:]))
            written = written.upper() if upper else written
            expected.append((piece[1], len(text), len(text) + len(written)))
            text += written
        else:
            text += piece
    spots = NameSpotter.build(_NAMES).spot(text)
    assert [(s.payload, s.start, s.end) for s in spots] == expected
    assert all(text[s.start : s.end] == s.found for s in spots)
