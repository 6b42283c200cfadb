"""Company-name normalization: one name in, a ``NameForm`` of comparable parts out.

The steps follow ``reference/libraries.md`` §6.1: NFKC (full-width forms become ASCII), casefold, unify
punctuation, drop legal forms, set place names aside as a weak feature, and fold plurals. Legal forms come from
rigour (OpenSanctions' table, built from ISO 20275 and covering GmbH, ООО, S.A., sdn bhd ...), then from the short
list in ``lexicon`` of the English words rigour deliberately keeps ("Corporation", "Company", "Co."). Other Latin
scripts and Cyrillic or Greek are transliterated to ASCII by rigour. Dense scripts (Han, kana, hangul) have no word
boundaries and are compared as whole strings, traditional Han folded to simplified by OpenCC; pinyin spellings of
Chinese names are derived once at index build (``derive.py``), never guessed at match time.

``normalize_name`` is the public entry point (also used to spot universe names in rule text); its output for a
name never depends on the universe.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rigour._core import (
    extract_org_types,
    maybe_ascii,
    remove_org_types,
)  # the compiled core: the same functions rigour.names

# re-exports, without importing its text helpers (normality, chardet: ~0.4 s), which matters for `monitor match`
from monitor.matching.lexicon import (
    HAN_LEGAL_SUFFIXES,
    HAN_PLACE_SUFFIXES,
    HAN_PLACES,
    HAN_WEAK_SUFFIXES,
    LEGAL_FORMS,
    ORG_TYPES,
    PLACE_PHRASES,
    PLACES,
    STOPWORDS,
    TOKEN_FOLDS,
)

_DENSE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_DENSE}]+|[^\W_{_DENSE}]+")
_APOSTROPHES = re.compile(r"['’`´]")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_BOILERPLATE = re.compile(
    r"[,;]?\s*\b(?:and|including|or)\s+(?:any|all|its)\s+(?:successors?|sub-?units?|subsidiar(?:y|ies)|affiliates?)\b.*$",
    re.IGNORECASE | re.DOTALL,
)
_BOILERPLATE_WORDS = ("successor", "subunit", "sub-unit", "subsidiar", "affiliate")  # one is in every match
_PARENTHETICAL = re.compile(r"\s*[(（\[]([^()（）\[\]]*)[)）\]]")
_MAX_LEGAL = max(len(form) for form in LEGAL_FORMS)
_LEGAL = frozenset(LEGAL_FORMS)
_LEGAL_FIRST = frozenset(form[0] for form in LEGAL_FORMS)  # a legal form can only start at one of these words
_PLACE_PHRASE_FIRST = frozenset(phrase[0] for phrase in PLACE_PHRASES if len(phrase) == 2)
_CASEFOLD = 4  # rigour.text.normalize.Normalize.CASEFOLD: the flags rigour's alias table is built with
_NOOP = 0  # rigour.text.normalize.Cleanup.Noop
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class NameForm:
    """The comparable parts of one name.

    ``tokens`` are the identity-bearing Latin tokens in order (no legal forms, stopwords or places). ``key`` is the
    whole name without legal forms, spaces or punctuation ("Sense Time" and "SenseTime" share it); ``core_key`` is
    the same without places. ``han`` and ``han_core`` are the dense-script counterparts.
    """

    original: str
    words: tuple[str, ...]  # identity tokens and places in their order: "china communication construction"
    tokens: tuple[str, ...]
    places: tuple[str, ...]
    inner_places: tuple[str, ...]  # places after the first identity token: "(Beijing)" in a subsidiary's name
    legal: tuple[str, ...]
    key: str
    core_key: str
    han: str
    han_core: str

    @property
    def org_types(self) -> frozenset[str]:
        return frozenset(token for token in self.tokens if token in ORG_TYPES)

    @property
    def is_empty(self) -> bool:
        return not (self.key or self.han)


@lru_cache(maxsize=65536)
def fold_token(token: str) -> str:
    """Plural and abbreviation folding, applied identically to both sides of every comparison."""
    folded = TOKEN_FOLDS.get(token)
    if folded is not None:
        return folded
    ordinal = _ORDINAL.match(token) if token[:1].isdigit() else None
    if ordinal:
        return ordinal.group(1)
    if len(token) > 5 and token.isalpha():
        if token.endswith("ies"):
            return token[:-3] + "y"
        if token.endswith("s") and not token.endswith(("ss", "us", "is")):
            return token[:-1]
    return token


def _ascii_fold(token: str) -> str:
    """Latin with diacritics, Cyrillic, Greek ... in ASCII ("Łódź" -> "lodz", "Ромашка" -> "romashka")."""
    if token.isascii():
        return token
    folded = maybe_ascii(token).casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> Callable[[str], str]:
    """OpenCC's t2s converter, built on first use (only names with Han characters need it)."""
    import opencc

    converter: Callable[[str], str] = opencc.OpenCC("t2s").convert
    return converter


def fold_han(text: str) -> str:
    """Traditional Han characters folded to simplified: 中國廣核 and 中国广核 are one name."""
    return _traditional_to_simplified()(text) if _HAN.search(text) else text


def _strip_boilerplate(name: str) -> str:
    """``name`` without "and any successors"-style boilerplate.

    The pattern is costly to try at every position, so an ASCII name (for which a plain lower-case search finds
    everything the case-insensitive pattern could) is first searched for the words every match contains.
    """
    if name.isascii():
        lowered = name.lower()
        if not any(word in lowered for word in _BOILERPLATE_WORDS):
            return name
    return _BOILERPLATE.sub("", name)


def _strip_legal(tokens: list[str]) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    found: list[str] = []
    index = 0
    while index < len(tokens):
        if tokens[index] not in _LEGAL_FIRST:
            kept.append(tokens[index])
            index += 1
            continue
        for size in range(min(_MAX_LEGAL, len(tokens) - index), 0, -1):
            window = tuple(tokens[index : index + size])
            if window in _LEGAL:
                found.append(" ".join(window))
                index += size
                break
        else:
            kept.append(tokens[index])
            index += 1
    return kept, found


def _join_place_phrases(tokens: list[str]) -> list[str]:
    if not _PLACE_PHRASE_FIRST.intersection(tokens):
        return tokens
    joined: list[str] = []
    index = 0
    while index < len(tokens):
        pair = tuple(tokens[index : index + 2])
        if len(pair) == 2 and pair in PLACE_PHRASES:
            joined.append(PLACE_PHRASES[pair])
            index += 2
        else:
            joined.append(tokens[index])
            index += 1
    return joined


_HAN_PLACE_ALTERNATION = "|".join(re.escape(place) for place in HAN_PLACES)
_HAN_PLACE_PREFIX = re.compile(rf"^(?:{_HAN_PLACE_ALTERNATION})[{''.join(HAN_PLACE_SUFFIXES)}]?")
_HAN_PLACE_SUFFIX = re.compile(rf"(?:{_HAN_PLACE_ALTERNATION})$")


def _strip_han(text: str) -> tuple[str, str]:
    """(name without legal suffix, core without places and weak suffixes) for a dense-script name."""
    han = text
    stripped = True
    while stripped:
        stripped = False
        for suffix in HAN_LEGAL_SUFFIXES:
            if han.endswith(suffix) and len(han) > len(suffix):
                han = han[: -len(suffix)]
                stripped = True
                break
    core = han
    while (found := _HAN_PLACE_PREFIX.match(core)) and len(core) - found.end() >= 2:
        core = core[found.end() :]
    while (found := _HAN_PLACE_SUFFIX.search(core)) and found.start() >= 2:
        core = core[: found.start()]
    for suffix in HAN_WEAK_SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
    return han, core


def entity_names(name: str) -> list[str]:
    """The ways to read one listed name: as written, and without parenthetical asides that are not places.

    "Semiconductor Manufacturing International Corporation (SMIC)" is also read without "(SMIC)"; the qualifier in
    "Hoshine Silicon Industry (Shanshan) Co., Ltd." names a place, marks a subsidiary, and so is kept.
    """
    names = [name]
    stripped = _PARENTHETICAL.sub(
        lambda found: found.group(0) if normalize_name(found.group(1)).places else " ", _strip_boilerplate(name)
    )
    stripped = " ".join(stripped.split())
    if stripped and stripped != name:
        names.append(stripped)
    return names


@lru_cache(maxsize=262144)
def normalize_name(name: str) -> NameForm:
    """Normalize one company or entity name; cached, since universes repeat names across listings."""
    text = fold_han(unicodedata.normalize("NFKC", _strip_boilerplate(name)).casefold())
    text = _APOSTROPHES.sub("", text).replace("&", " and ").replace("+", " plus ")
    rigour_legal = [" ".join(found.split()) for found, _ in extract_org_types(text, _CASEFOLD, _NOOP, False)]
    if rigour_legal:
        text = remove_org_types(text, _CASEFOLD, _NOOP, " ")
    latin: list[str] = []
    dense: list[str] = []
    for raw in _TOKEN.findall(text):
        if "\u3040" <= raw[0] <= "\ud7af" or "\uf900" <= raw[0] <= "\ufaff":
            dense.append(raw)
        else:
            latin.append(_ascii_fold(raw))
    kept, legal = _strip_legal([token for token in latin if token])
    legal = rigour_legal + legal
    kept = _join_place_phrases([token for token in kept if token not in STOPWORDS])
    tokens: list[str] = []
    places: list[str] = []
    inner: list[str] = []
    full: list[str] = []
    for token in kept:
        folded = fold_token(token)
        if folded in full:
            continue  # "Hikvision Digital Technology (Hikvision)" says Hikvision once
        full.append(folded)
        if folded in PLACES:
            places.append(folded)
            if tokens:
                inner.append(folded)
        else:
            tokens.append(folded)
    han, han_core = _strip_han("".join(dense)) if dense else ("", "")
    return NameForm(
        original=name,
        words=tuple(full),
        tokens=tuple(tokens),
        places=tuple(places),
        inner_places=tuple(inner),
        legal=tuple(legal),
        key="".join(full),
        core_key="".join(tokens),
        han=han,
        han_core=han_core,
    )
