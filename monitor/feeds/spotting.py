"""Name spotting: every universe name and alias found anywhere in a rule's text, whatever its layout.

The table parser can be defeated by a layout nobody has seen; a listed company named in the prose, a table cell
or a footnote must still reach the trader. So, independently of any parse, the text is scanned once for all the
universe's names with one Aho-Corasick automaton (pyahocorasick): the cost is linear in the text, not in the
number of names. The text is normalized once, as a whole (one folded copy with an offset map back to the text),
so 50,000 names over a 200-page rule take tens of milliseconds.

Names and text go through the same tokenizer (NFKC, casefold, apostrophes dropped, ``&`` as "and", each token
folded by the matcher's public ``fold_token``), so "SenseTime's" and "Sense Time" meet the pattern the name
gives, and spacing never matters ("Sense Time" is "SenseTime", as in the matcher's key). Trailing legal forms
are left out of a pattern ("Hikvision Digital Technology Co., Ltd." is spotted as "Hikvision Digital
Technology …" in any legal dress). Every hit is confirmed with the matcher's own ``normalize_name``, so a spot
never disagrees with what the matcher would call the same string. Each spot carries the sentence it was found in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

import ahocorasick
import numpy as np
import numpy.typing as npt

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
    """Built once per universe (seconds for 50,000 names), then used for every rule's text.

    Keys are a pattern's tokens run together ("sensetime"), and the text is scanned as one stream of its folded
    tokens run together, so "Sense Time" and "SenseTime" meet, as the matcher's space-free ``key`` has them meet.
    A hit counts only where it starts and ends on token boundaries of the stream ("dahua" never inside
    "dahuang"); ``_Stream`` maps it back to the text's own offsets.
    """

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
            named = spotter._names.setdefault("".join(pattern), [])
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
        stream = _Stream.of(text)
        if not stream.folded:
            return []
        raw = list(self._automaton.iter(stream.folded))
        if not raw:
            return []
        ends = np.fromiter((end + 1 for end, _ in raw), np.int64, len(raw))
        starts = ends - np.fromiter((len(key) for _, key in raw), np.int64, len(raw))
        aligned = stream.boundary[starts] & stream.boundary[ends]
        firsts = np.searchsorted(stream.bounds, starts[aligned], side="right") - 1
        lasts = np.searchsorted(stream.bounds, ends[aligned], side="left") - 1
        order = np.lexsort((firsts - lasts, firsts))  # by first token, the longest first
        spots: list[Spot[Payload]] = []
        covered = -1
        hits = np.flatnonzero(aligned)[order].tolist()
        for first, last, hit in zip(firsts[order].tolist(), lasts[order].tolist(), hits, strict=True):
            if first <= covered:
                continue
            start, end = stream.span(first, last)
            written = text[start:end]
            confirmed = [(name, payload) for name, payload in self._names[raw[hit][1]] if _confirmed(written, name)]
            if confirmed:
                sentence = sentence_around(text, start, end)
                spots.extend(Spot(name, payload, written, start, end, sentence) for name, payload in confirmed)
            covered = last
        return spots


@dataclass(frozen=True, slots=True)
class _Stream:
    """A text as the automaton reads it: its folded tokens run together, with each token's place on both sides.

    Tokens are runs of letters and digits (``str.isalnum``, the matcher's ``[^\\W_]``). They are found with
    numpy over the code points and cut with one ``translate`` + ``split``, then folded through a cache with
    ``map``: C-level passes, never Python work per token (a 200-page rule has some 70,000 tokens).
    """

    folded: str  # the folded tokens, stopwords dropped (folded to ""), run together
    bounds: npt.NDArray[np.int64]  # token i spans folded[bounds[i]:bounds[i + 1]]
    boundary: npt.NDArray[np.bool_]  # whether a position of ``folded`` (0 … len) is a token boundary
    starts: npt.NDArray[np.int64]  # token i spans text[starts[i]:ends[i]]
    ends: npt.NDArray[np.int64]

    @classmethod
    def of(cls, text: str) -> _Stream:
        prepared = unicodedata.normalize("NFKC", text)
        if len(prepared) != len(text):  # NFKC changed lengths (ligatures, full-width runs): offsets would drift
            prepared = text
        prepared = _APOSTROPHES.sub(lambda m: " " * len(m.group()), prepared)
        codes = np.frombuffer(prepared.encode("utf-32-le"), dtype=np.uint32)
        word = np.zeros(len(codes) + 2, dtype=np.bool_)  # padded with a non-word place at each end
        np.take(_ASCII_WORD, codes, mode="clip", out=word[1:-1])  # code points past ASCII: decided below
        separators = dict(_ASCII_SEPARATORS)
        wide = np.flatnonzero(codes >= 128)
        if len(wide):
            seen, where = np.unique(codes[wide], return_inverse=True)
            alnum = np.array([chr(code).isalnum() for code in seen.tolist()], dtype=np.bool_)
            word[1:-1][wide] = alnum[where]
            separators.update((code, " ") for code in seen[~alnum].tolist())
        edges = np.flatnonzero(word[1:] != word[:-1])
        tokens = prepared.translate(separators).split()
        # Token i's end in the run-together stream is where the i-th NUL of the NUL-joined stream is, less i.
        joined = "\0".join(map(_stream_fold, tokens)) + "\0"
        nuls = np.flatnonzero(np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32) == 0)
        bounds = np.zeros(len(nuls) + 1, dtype=np.int64)
        bounds[1:] = nuls - np.arange(len(nuls))
        boundary = np.zeros(int(bounds[-1]) + 1, dtype=np.bool_)
        boundary[bounds] = True
        return cls(joined.replace("\0", ""), bounds, boundary, edges[0::2], edges[1::2])

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Tokens ``first`` … ``last`` as (start, end) offsets in the text."""
        return int(self.starts[first]), int(self.ends[last])


_ASCII_WORD = np.array([chr(code).isalnum() for code in range(128)], dtype=np.bool_)
_ASCII_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum()}


@lru_cache(maxsize=262144)
def _stream_fold(token: str) -> str:
    folded = _fold(token)
    return "" if folded in STOPWORDS else folded


def _confirmed(written: str, name: str) -> bool:
    """The matcher's normalization agrees: the found words are the name (legal forms and places aside)."""
    seen, wanted = normalize_name(written), normalize_name(name)
    return bool(wanted.core_key) and (seen.core_key == wanted.core_key or seen.key == wanted.key)


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or table cell paragraph) holding ``text[start:end]``, on one line, clipped."""
    left = 0
    for match in _SENTENCE_END.finditer(text, max(0, start - MAX_SENTENCE), start + 1):  # +1: the lookahead
        left = match.end()
    right_match = _SENTENCE_END.search(text, end, end + MAX_SENTENCE)
    right = right_match.start() if right_match else min(len(text), end + MAX_SENTENCE // 2)
    left = max(left, start - MAX_SENTENCE // 2)
    sentence = " ".join(text[left:right].split())
    return sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"
