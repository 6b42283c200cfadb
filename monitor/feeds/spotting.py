"""Name spotting: every universe name and alias found anywhere in a rule's text, whatever its layout.

The table parser can be defeated by a layout nobody has seen; a listed company named in the prose, a table cell
or a footnote must still reach the trader. So, independently of any parse, the text is scanned once for all the
universe's names with one Aho-Corasick automaton (pyahocorasick): the cost is linear in the text, not in the
number of names, so 50,000 names over a 200-page rule stay well under a second.

Names and text go through the same tokenizer (NFKC, casefold, apostrophes dropped, ``&`` as "and", each token
folded by the matcher's public ``fold_token``), so "SenseTime's" and "Sense Time" meet the pattern the name
gives; trailing legal forms are left out of a pattern ("Hikvision Digital Technology Co., Ltd." is spotted as
"Hikvision Digital Technology …" in any legal dress). Every hit is confirmed with the matcher's own
``normalize_name``, so a spot never disagrees with what the matcher would call the same string. Each spot
carries the sentence it was found in.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

import ahocorasick

from monitor.matching.lexicon import GENERIC, LEGAL_FORMS, ORG_TYPES, PLACES, STOPWORDS
from monitor.matching.normalize import fold_token, normalize_name

Payload = TypeVar("Payload", bound=Hashable)

_TOKEN = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"['’`´]s?\b")
_LEGAL_TOKENS = frozenset(token for form in LEGAL_FORMS for token in form)
_WEAK = GENERIC | ORG_TYPES | PLACES  # words that never identify a company on their own
_WEAK_ALONE = _WEAK | _LEGAL_TOKENS
_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[A-Z0-9“\"(])|\n\s*\n")
MIN_SINGLE_TOKEN = 4  # a one-word alias shorter than this ("ZT") is too ambiguous to spot in prose
MAX_SENTENCE = 400


@dataclass(frozen=True, slots=True)
class Spot(Generic[Payload]):
    """One universe name found in the text: what it stands for, where, and the sentence around it."""

    name: str  # the universe name or alias that was found
    payload: Payload  # what the caller attached to that name (an issuer, a target index …)
    found: str  # the text as written
    start: int
    end: int
    sentence: str


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(folded token, start, end) in ``text``'s own offsets."""
    folded = unicodedata.normalize("NFKC", text)
    if len(folded) != len(text):  # NFKC changed lengths (ligatures, full-width runs): offsets would drift
        folded = text
    return [(_fold(match.group()), match.start(), match.end()) for match in _TOKEN.finditer(folded)]


@lru_cache(maxsize=262144)
def _fold(token: str) -> str:
    return fold_token(token.casefold())


def pattern_of(name: str) -> tuple[str, ...]:
    """The tokens a name is spotted by: its own, less "&"/"and" noise and trailing legal forms."""
    name = _APOSTROPHES.sub("", name.replace("&", " and "))
    found = [token for token, _, _ in tokens(name) if token not in STOPWORDS]
    while found and found[-1] in _LEGAL_TOKENS:
        found.pop()
    return tuple(found)


def _spottable(pattern: tuple[str, ...]) -> bool:
    if not pattern:
        return False
    if len(pattern) == 1:
        only = pattern[0]
        return len(only) >= MIN_SINGLE_TOKEN and only not in _WEAK_ALONE
    return not all(token in _WEAK for token in pattern)


class NameSpotter(Generic[Payload]):
    """Built once per universe (seconds for 50,000 names), then used for every rule's text."""

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._names: dict[str, list[tuple[str, Payload]]] = {}
        self.size = 0

    @classmethod
    def build(cls, entries: Iterable[tuple[str, Payload]]) -> NameSpotter[Payload]:
        spotter: NameSpotter[Payload] = cls()
        for name, payload in entries:
            pattern = pattern_of(name)
            if not _spottable(pattern):
                continue
            key = " " + " ".join(pattern) + " "
            named = spotter._names.setdefault(key, [])
            if (name, payload) not in named:
                named.append((name, payload))
                spotter.size += 1
        for key in spotter._names:
            spotter._automaton.add_word(key, key)
        if spotter._names:
            spotter._automaton.make_automaton()
        return spotter

    def spot(self, text: str) -> list[Spot[Payload]]:
        """Every name found in ``text``, longest first where two overlap, in text order."""
        if not self._names:
            return []
        found = [t for t in tokens(_APOSTROPHES.sub(lambda m: " " * len(m.group()), text)) if t[0] not in STOPWORDS]
        if not found:
            return []
        stream = " " + " ".join(token for token, _, _ in found) + " "
        starts: list[int] = []
        position = 1
        for token, _, _ in found:
            starts.append(position)
            position += len(token) + 1
        hits: list[tuple[int, int, str]] = []
        for end, key in self._automaton.iter(stream):
            first = bisect.bisect_left(starts, end - len(key) + 2)
            last = bisect.bisect_right(starts, end - 1) - 1
            hits.append((first, last, key))
        hits.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
        spots: list[Spot[Payload]] = []
        covered = -1
        for first, last, key in hits:
            if first <= covered:
                continue
            start, end = found[first][1], found[last][2]
            written = text[start:end]
            for name, payload in self._names[key]:
                if _confirmed(written, name):
                    spots.append(Spot(name, payload, written, start, end, sentence_around(text, start, end)))
            covered = last
        return spots


def _confirmed(written: str, name: str) -> bool:
    """The matcher's normalization agrees: the found words are the name (legal forms and places aside)."""
    seen, wanted = normalize_name(written), normalize_name(name)
    return bool(wanted.core_key) and (seen.core_key == wanted.core_key or seen.key == wanted.key)


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or table cell paragraph) holding ``text[start:end]``, on one line, clipped."""
    left = 0
    for match in _SENTENCE_END.finditer(text, max(0, start - MAX_SENTENCE), start):
        left = match.end()
    right_match = _SENTENCE_END.search(text, end, end + MAX_SENTENCE)
    right = right_match.start() if right_match else min(len(text), end + MAX_SENTENCE // 2)
    left = max(left, start - MAX_SENTENCE // 2)
    sentence = " ".join(text[left:right].split())
    return sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"
