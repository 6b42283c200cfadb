"""Amendment instructions (``<AMDPAR>``): what a rule does to Supplement No. 4 to part 744, clause by clause.

A rule's table rows do not say whether they are added or revised; the instruction above the table does, and
one instruction can do several things: "Supplement No. 4 to part 744 is amended: a. By adding under CHINA,
PEOPLE'S REPUBLIC OF, in alphabetical order, entries for “A” and “B”; b. By revising under RUSSIA the entry
for “C”; and c. By removing under PAKISTAN the entry for “D”." Removed entries usually have no table row at
all, so the names quoted here are the only record of them. Never count a revision as an addition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from monitor.models import ActionKind

_VERB = re.compile(
    r"\b(?P<verb>adding|adds?|revising|revises?|removing|removes?|modifying|modif(?:y|ies)|"
    r"correcting|corrects?)\b",
    re.IGNORECASE,
)
_KINDS: tuple[tuple[str, ActionKind], ...] = (
    ("add", ActionKind.ADD),
    ("revis", ActionKind.REVISE),
    ("modif", ActionKind.REVISE),
    ("correct", ActionKind.REVISE),
    ("remov", ActionKind.REMOVE),
)
_COUNTRY = re.compile(
    r"\bunder\s+(?:the\s+destination\s+of\s+)?"
    r"(?P<country>[A-Z][\w'’.\-]*(?:(?:,\s*|\s+)(?:[A-Z][A-Z'’.\-]*|OF|AND|THE))*)"
)
_QUOTED = re.compile(r"[“\"]([^”\"]{1,300})[”\"]")
_SUPPLEMENT = re.compile(r"supplement\s+no\.?\s*(\d+)\s+to\s+(?:this\s+)?part\s+744", re.IGNORECASE)
_ABBREVIATION_END = re.compile(r"(?:\b[A-Za-z]{1,3}\.|\.[A-Za-z]+\.)$")

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}

_NUMBER_WORD = (
    r"\d+|(?:"
    + "|".join(_TENS)
    + r")(?:-(?:one|two|three|four|five|six|seven|eight|nine))?|"
    + "|".join(sorted(_UNITS, key=len, reverse=True))
)
_COUNT = re.compile(
    r"\b(?P<count>" + _NUMBER_WORD + r")\s+(?:[\w'’-]+\s+){0,2}?"
    r"(?:entities|entity|entries|entry|persons|person|addresses|address)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One verb of an instruction: its action, destination, quoted entry names and stated count."""

    kind: ActionKind
    country: str | None
    names: tuple[str, ...]
    count: int | None
    text: str


def number_from_words(word: str) -> int | None:
    """ "28", "twenty-eight", "one" → int; anything else → None (the count is only a cross-check)."""
    word = word.lower().strip()
    if word.isdigit():
        return int(word)
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    tens, _, unit = word.partition("-")
    if tens in _TENS and unit in _UNITS and _UNITS[unit] < 10:
        return _TENS[tens] + _UNITS[unit]
    if word in ("a", "an", "the"):
        return None
    return None


def supplement_number(text: str) -> int | None:
    """Which supplement to part 744 the text amends (4 is the Entity List; 7 is the Military End-User list)."""
    match = _SUPPLEMENT.search(text)
    return int(match.group(1)) if match else None


def clean_name(name: str) -> str:
    """Strip list punctuation (and what American style puts inside quotes), keeping abbreviations like "Ltd."."""
    name = " ".join(name.split()).rstrip(",;: ")
    if name.endswith(".") and not _ABBREVIATION_END.search(name):
        name = name[:-1]
    return name.strip()


def parse_clauses(text: str) -> list[Clause]:
    """Every add/revise/remove clause in an instruction, in order; empty for e.g. an authority citation."""
    text = " ".join(text.split())
    verbs = list(_VERB.finditer(text))
    clauses: list[Clause] = []
    for index, match in enumerate(verbs):
        end = verbs[index + 1].start() if index + 1 < len(verbs) else len(text)
        body = text[match.start() : end]
        verb = match.group("verb").lower()
        kind = next(k for prefix, k in _KINDS if verb.startswith(prefix))
        country_match = _COUNTRY.search(body)
        country = country_match.group("country").strip(" ,.;") if country_match else None
        names = tuple(dict.fromkeys(n for n in (clean_name(q) for q in _QUOTED.findall(body)) if n))
        count_match = _COUNT.search(body)
        count = number_from_words(count_match.group("count")) if count_match else None
        if count is None and len(names) > 0 and re.search(r"\bthe\s+(entry|entity)\b", body, re.IGNORECASE):
            count = len(names)
        clauses.append(Clause(kind=kind, country=country, names=names, count=count, text=body.strip()))
    return clauses


_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """Loose equality for matching a table row to a quoted name: case, spacing and punctuation ignored. Cached:
    every row of a table is compared with every name its instruction quotes."""
    return _NOT_WORD.sub("", name.casefold())
