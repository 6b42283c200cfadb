"""Names a rule may use that no list gives us: pinyin spellings of Chinese names and acronyms of English ones.

Entity List rules write Chinese companies in pinyin, usually with the trade words in English and the brand's
syllables joined in pairs: 天津曙光计算机产业 appears as "Tianjin Shuguang Computer Industry", 格灵深瞳信息技术 as
"Geling Shentong Information Technology". ``pinyin_names`` reads a Chinese name that way: places and trade words
from the tables in ``lexicon`` (longest first), the remaining characters (the brand) through pypinyin, syllables
joined two by two ("Zhongke Shuguang") and all together ("Zhongkeshuguang"). ``acronyms`` gives the initials a
rule may use for a long English name (SMIC for Semiconductor Manufacturing International Corporation).

Both run once per universe name when the match index is built, never at match time; pypinyin (large dictionaries,
about half a second to import) is imported only when a Chinese name needs it.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from monitor.matching.lexicon import HAN_GLOSSARY, HAN_PLACE_PINYIN, HAN_PLACE_SUFFIXES
from monitor.matching.normalize import normalize_name

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ACRONYM_SKIP = frozenset({"and", "of", "the", "for", "limited", "ltd", "co", "inc", "llc", "plc", "sa", "ag"})
_ACRONYM_LEGAL = frozenset({"corporation", "corp", "company", "group", "holdings", "holding", "joint", "stock"})
_WORD = re.compile(r"[^\W_]+")
MIN_ACRONYM = 3
MAX_ACRONYM = 6


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


@cache
def _longest_word() -> int:
    return max(len(word) for word in (*HAN_GLOSSARY, *HAN_PLACE_PINYIN))


@lru_cache(maxsize=65536)
def _word_syllables(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin  # import here: ~0.5 s of dictionaries, needed only at index build

    return tuple(lazy_pinyin(word, style=Style.NORMAL))


def _brand_syllables(text: str) -> tuple[str, ...]:
    """pypinyin's reading of a brand's characters, word by word of pypinyin's own segmentation.

    ``lazy_pinyin`` cuts a text into dictionary phrases and single characters and reads each piece on its own, so
    reading the same pieces one by one gives the same syllables; the pieces recur across a universe's names (a few
    thousand characters and phrases), and a cached piece costs a lookup instead of pypinyin's conversion.
    """
    from pypinyin.seg.simpleseg import seg

    return tuple(syllable for word in seg(text) for syllable in _word_syllables(word) if syllable.isalpha())


def _segments(han: str) -> list[tuple[str, str]]:
    """(kind, text) pieces of a Chinese name: place, word (a trade word with its English) or brand characters.

    The reading that leaves the fewest characters to the brand, then has the fewest pieces, wins (dynamic
    programming), so 中国广核电力 reads 中国 | 广核 | 电力 ("China Guanghe Power"), not 中国 | 广 | 核电 | 力.
    """
    size = len(han)
    longest = _longest_word()
    # cost[start][in_brand]: (brand characters, pieces) of the best reading of han[start:], and its first step
    # (kind, text, next start, next in_brand). Filled from the end; options are tried longest word first, the
    # brand character last, and the first of equal cost wins.
    cost: list[tuple[tuple[int, int], tuple[int, int]]] = [((0, 0), (0, 0))] * (size + 1)
    step: list[tuple[tuple[str, str, int, bool], tuple[str, str, int, bool]]] = [(("", "", 0, False),) * 2] * (size + 1)
    for start in range(size - 1, -1, -1):
        words: list[tuple[tuple[int, int], tuple[str, str, int, bool]]] = []
        for width in range(min(longest, size - start), 1, -1):
            chunk = han[start : start + width]
            kind = "place" if chunk in HAN_PLACE_PINYIN else "word" if chunk in HAN_GLOSSARY else ""
            if not kind:
                continue
            end = start + width
            if kind == "place" and end < size and han[end] in HAN_PLACE_SUFFIXES:
                end += 1  # 深圳市: the administrative suffix is not spelt
            brand, pieces = cost[end][0]
            words.append(((brand, pieces + 1), (kind, chunk, end, False)))
        brand, pieces = cost[start + 1][1]
        chosen = []
        for in_brand in (False, True):
            options = [*words, ((brand + 1, pieces + (0 if in_brand else 1)), ("brand", han[start], start + 1, True))]
            chosen.append(min(options, key=lambda option: option[0]))
        cost[start] = (chosen[0][0], chosen[1][0])
        step[start] = (chosen[0][1], chosen[1][1])
    pieces_read: list[tuple[str, str]] = []
    position, in_brand = 0, False
    while position < size:
        kind, text, position, in_brand = step[position][in_brand]
        pieces_read.append((kind, text))

    merged: list[tuple[str, str]] = []
    for kind, text in pieces_read:
        if kind == "brand" and merged and merged[-1][0] == "brand":
            merged[-1] = ("brand", merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return [(kind, text) for kind, text in merged if kind != "brand" or any(char.isalnum() for char in text)]


def _pairs(syllables: list[str]) -> list[str]:
    """Syllables joined as pinyin writes Chinese words: in twos, a lone third joining the last pair."""
    if len(syllables) <= 3:
        return ["".join(syllables)] if syllables else []
    words = ["".join(syllables[index : index + 2]) for index in range(0, len(syllables), 2)]
    if len(syllables) % 2:
        words[-2] += words.pop()
    return words


@lru_cache(maxsize=65536)
def pinyin_names(name: str) -> tuple[str, ...]:
    """Pinyin spellings of a Chinese company name, as an English-language rule would write it; () if not Chinese."""
    if not has_han(name):
        return ()
    form = normalize_name(name)
    if not form.han:
        return ()
    grouped: list[str] = []
    joined: list[str] = []
    for kind, text in _segments(form.han):
        if kind == "place":
            grouped.append(HAN_PLACE_PINYIN[text])
            joined.append(HAN_PLACE_PINYIN[text])
        elif kind == "word":
            grouped.append(HAN_GLOSSARY[text])
            joined.append(HAN_GLOSSARY[text])
        else:
            syllables = list(_brand_syllables(text))
            grouped += _pairs(syllables)
            joined.append("".join(syllables))
    names = [" ".join(word.title() for word in words) for words in (grouped, joined) if words]
    return tuple(dict.fromkeys(name for name in names if not has_han(name)))


@lru_cache(maxsize=65536)
def acronyms(name: str) -> tuple[str, ...]:
    """Initials of an English company name's words (SMIC, CCCC, YOFC), with and without its corporate words."""
    if has_han(name):
        return ()
    words = [word for word in _WORD.findall(name.casefold()) if word not in _ACRONYM_SKIP]
    if len(words) < MIN_ACRONYM or any(word.isdigit() for word in words):
        return ()
    found: list[str] = []
    for kept in (words, [word for word in words if word not in _ACRONYM_LEGAL]):
        initials = "".join(word[0] for word in kept)
        if MIN_ACRONYM <= len(initials) <= MAX_ACRONYM and initials.isalpha():
            found.append(initials.upper())
    return tuple(dict.fromkeys(found))
