"""Scoring one entity name against one universe name: exact keys first, then a weighted token alignment.

The alignment is a weighted Dice coefficient over identity tokens: each token weighs 1 when it is distinctive in
the universe and little when it is a generic descriptor, so "Hikvision Digital Technology" still scores high
against "Hikvision", while "Hangzhou Digital Technology" (no distinctive token) never matches at all. Places,
organisation types and fuzzy (typo) token matches subtract fixed, explainable penalties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from monitor.matching.lexicon import ORG_TYPES
from monitor.matching.normalize import NameForm

DISTINCTIVE_WEIGHT = 1.0
ORG_TYPE_WEIGHT = 0.5
GENERIC_WEIGHT = 0.15

FUZZY_MIN_LENGTH = 6  # shorter tokens only match exactly: "huafu" vs "huafa" are different issuers
FUZZY_MIN_SIMILARITY = 0.8
FUZZY_TOKEN_PENALTY = 0.06
PLACE_CONFLICT_PENALTY = 0.06  # both names carry places and none is shared
INNER_PLACE_PENALTY = 0.10  # "SMIC (Beijing)": a place after the name usually marks a subsidiary or branch
PLACE_ONE_SIDED_PENALTY = 0.02  # "Hangzhou Hikvision" vs "Hikvision"
ORG_TYPE_PENALTY = 0.30  # "Jiangnan Institute" is not "Jiangnan Group"
GROUP_PENALTY = 0.06  # "New Hope Group" is usually the unlisted parent of the listed "New Hope Liuhe"
GROUP_WORDS = frozenset({"group", "holding"})
DESCRIPTOR_CONFLICT_PENALTY = 0.06  # "Great Wall Industry" vs "Greatwall Technology Group": same brand, other trade
HAN_CORE_SCORE = 0.95  # same Chinese name once places and legal suffixes are gone
HAN_SHORT_CORE_SCORE = 0.88  # ... but only two characters left: too little to confirm alone
MAX_FUZZY_SCORE = 0.99  # only an exact key earns 1.0
BRAND_SCORE = 0.95  # the entity is the listed name's distinctive words alone ("Hikvision"): the rest is descriptors
ACRONYM_SCORE = 0.93  # the name is a listed issuer's initials, and no other target's (SMIC): confirmed
SHARED_ACRONYM_SCORE = 0.85  # ... initials several targets share, or only three letters: review
SUBSIDIARY_BY_NAME_SCORE = 0.86  # a listed name embedded with a place or division qualifier: review, never auto
MIN_ACRONYM_CONFIRM = 4

# An exposure's score is the counterparty's identity score times its strength: a supplier that sells a third or
# more of its revenue to the entity keeps the full score, an undisclosed share counts like a few percent.
EXPOSURE_FLOOR = 0.94
EXPOSURE_UNDISCLOSED = 0.95
EXPOSURE_FULL_SHARE = 0.30

Weigher = Callable[[str], float]


def exposure_strength(weight: float | None) -> float:
    """How much of the identity score an exposure keeps: 62% of revenue 1.00, 10% 0.96, undisclosed 0.95."""
    if weight is None:
        return EXPOSURE_UNDISCLOSED
    return EXPOSURE_FLOOR + (1 - EXPOSURE_FLOOR) * min(1.0, weight / EXPOSURE_FULL_SHARE)


@dataclass(frozen=True, slots=True)
class PairScore:
    score: float
    method: str  # exact | han_exact | core | han_core | fuzzy
    shared: tuple[str, ...] = ()  # distinctive tokens both names carry
    fuzzy: tuple[str, ...] = ()  # "hikvison~hikvision"
    penalties: tuple[str, ...] = ()


def _merge_compounds(tokens: tuple[str, ...], other: set[str]) -> list[str]:
    """Join adjacent tokens that the other name writes as one word ("sense time" vs "sensetime")."""
    size = len(tokens)
    if size < 2 or all(tokens[index] + tokens[index + 1] not in other for index in range(size - 1)):
        return list(tokens)  # the usual case: nothing to join
    merged: list[str] = []
    index = 0
    while index < size:
        if index + 1 < size and tokens[index] + tokens[index + 1] in other:
            merged.append(tokens[index] + tokens[index + 1])
            index += 2
        else:
            merged.append(tokens[index])
            index += 1
    return merged


def _align(entity: list[str], candidate: list[str], weigh: Weigher) -> tuple[float, list[str], list[str]]:
    """Greedy best-first alignment; returns (matched weight, shared distinctive tokens, fuzzy pairs)."""
    unused = list(candidate)
    matched = 0.0
    shared: list[str] = []
    fuzzy: list[str] = []
    for token in sorted(entity, key=lambda item: (-weigh(item), -len(item))) if len(entity) > 1 else entity:
        weight = weigh(token)
        if token in unused:
            unused.remove(token)
            matched += weight
            if weight >= DISTINCTIVE_WEIGHT:
                shared.append(token)
            continue
        if weight < DISTINCTIVE_WEIGHT or len(token) < FUZZY_MIN_LENGTH:
            continue
        best, best_similarity = None, FUZZY_MIN_SIMILARITY
        for other in unused:
            if len(other) >= FUZZY_MIN_LENGTH and weigh(other) >= DISTINCTIVE_WEIGHT:
                similarity = Levenshtein.normalized_similarity(token, other, score_cutoff=best_similarity)
                if similarity >= best_similarity:
                    best, best_similarity = other, similarity
        if best is not None:
            unused.remove(best)
            matched += best_similarity * (weight + weigh(best)) / 2
            fuzzy.append(f"{token}~{best}")
    return matched, shared, fuzzy


def _is_brand_of(entity: list[str], candidate: list[str], weigh: Weigher) -> bool:
    """The entity names only the candidate's distinctive words; everything else the candidate says is generic."""
    distinctive = {token for token in candidate if weigh(token) >= DISTINCTIVE_WEIGHT}
    if not distinctive or set(entity) != distinctive:
        return False
    return all(weigh(token) == GENERIC_WEIGHT for token in candidate if token not in distinctive)


def _place_penalty(entity: NameForm, candidate: NameForm) -> tuple[float, str | None]:
    if not entity.places and not candidate.places:
        return 0.0, None  # the usual case: no place on either side (inner places are places too)
    mine, theirs = set(entity.places), set(candidate.places)
    if mine and theirs and not mine & theirs:
        return PLACE_CONFLICT_PENALTY, f"places differ ({' '.join(entity.places)} vs {' '.join(candidate.places)})"
    missing = [place for place in entity.inner_places if place not in theirs]
    if missing:
        return INNER_PLACE_PENALTY, f"entity is qualified by {' '.join(missing)}, which the listed name lacks"
    if mine ^ theirs:
        return PLACE_ONE_SIDED_PENALTY, "place prefix on one side only"
    return 0.0, None


def _descriptor_conflict(entity: list[str], descriptors: frozenset[str], weigh: Weigher) -> list[str]:
    """Generic words the entity uses that none of the target's names use, when the target has its own."""
    if not descriptors:
        return []
    return [
        token
        for token in entity
        if weigh(token) == GENERIC_WEIGHT and token not in descriptors and token not in GROUP_WORDS
    ]


def score_pair(
    entity: NameForm, candidate: NameForm, weigh: Weigher, descriptors: frozenset[str] = frozenset()
) -> PairScore | None:
    """How well ``entity`` names the same company as ``candidate``; None when it plainly does not.

    ``descriptors`` are the generic words across all of the target's names ("technology", "group"); an entity
    that describes itself with other generic words is probably a namesake in another trade.
    """
    if entity.key and entity.key == candidate.key:
        return PairScore(1.0, "exact", shared=tuple(t for t in entity.tokens if weigh(t) >= DISTINCTIVE_WEIGHT))
    if entity.han and entity.han == candidate.han:
        return PairScore(1.0, "han_exact")
    if entity.han_core and entity.han_core == candidate.han_core:
        score = HAN_CORE_SCORE if len(entity.han_core) >= 3 else HAN_SHORT_CORE_SCORE
        return PairScore(score, "han_core", shared=(entity.han_core,))
    if not entity.tokens or not candidate.tokens:
        return None
    mine = _merge_compounds(entity.tokens, set(candidate.tokens))
    theirs = _merge_compounds(candidate.tokens, set(mine))
    matched, shared, fuzzy = _align(mine, theirs, weigh)
    if not shared and not fuzzy:
        return None  # the distinctive-token requirement
    if not fuzzy and sum(map(len, shared)) < 3:
        return None  # a lone "o" or "ab" is no evidence
    if entity.core_key == candidate.core_key:
        dice, method = 1.0, "core"
    elif not fuzzy and _is_brand_of(mine, theirs, weigh):
        dice, method = BRAND_SCORE, "brand"
    else:
        total = sum(map(weigh, mine)) + sum(map(weigh, theirs))
        dice, method = 2 * matched / total, "fuzzy"
    penalties: list[str] = []
    score = dice
    place, why = _place_penalty(entity, candidate)
    if why:
        score -= place
        penalties.append(f"{why} (-{place:.2f})")
    extra_types = frozenset() if ORG_TYPES.isdisjoint(entity.tokens) else entity.org_types - candidate.org_types
    if extra_types:
        score -= ORG_TYPE_PENALTY
        penalties.append(
            f"entity is a {'/'.join(sorted(extra_types))}, the listed name is not (-{ORG_TYPE_PENALTY:.2f})"
        )
    conflict = _descriptor_conflict(mine, descriptors, weigh) if method == "fuzzy" else []
    if conflict and not set(descriptors) <= set(mine):
        score -= DESCRIPTOR_CONFLICT_PENALTY
        penalties.append(
            f"entity says {' '.join(conflict)}, the listed names say {' '.join(sorted(descriptors))} "
            f"(-{DESCRIPTOR_CONFLICT_PENALTY:.2f})"
        )
    group = (
        sorted(token for token in GROUP_WORDS.intersection(mine) if token not in descriptors)
        if method == "fuzzy"
        else []
    )
    if group:
        score -= GROUP_PENALTY
        penalties.append(f"entity is a {group[0]}, the listed names are not: perhaps its parent (-{GROUP_PENALTY:.2f})")
    if fuzzy:
        cost = FUZZY_TOKEN_PENALTY * len(fuzzy)
        score -= cost
        penalties.append(f"spelling differs: {', '.join(fuzzy)} (-{cost:.2f})")
    return PairScore(max(0.0, min(MAX_FUZZY_SCORE, score)), method, tuple(shared), tuple(fuzzy), tuple(penalties))


def embedded_qualifiers(entity: NameForm, candidate: NameForm, weigh: Weigher) -> tuple[str, ...]:
    """What an entity adds to a listed name it embeds, when that marks a subsidiary; () when it does not.

    "China Communications Construction Company Dredging Group" embeds CCCC's whole name and adds a division
    ("dredging group"); "Nanjing FiberHome Starrysky" embeds FiberHome's brand and adds a brand of its own;
    "SMIC (Beijing)" adds a place after the name. Generic descriptors alone ("Hikvision Digital Technology") add
    nothing, and a bare "Group" or "Holding" points to a parent, not a subsidiary.
    """
    if not candidate.tokens or not entity.tokens or entity.key == candidate.key:
        return ()
    if entity.tokens[0] not in candidate.tokens:
        return ()  # a unit's name leads with its parent's ("ZTE Kangxun", "FiberHome Starrysky"), not "Face++"
    mine = set(entity.tokens)
    distinctive = [token for token in candidate.tokens if weigh(token) >= DISTINCTIVE_WEIGHT]
    if distinctive:
        if not set(distinctive) <= mine:
            return ()
    elif len(candidate.words) < 2 or not _contains(entity.words, candidate.words):
        return ()  # a name of generic words only is distinctive as a whole phrase, never word by word
    theirs = set(candidate.tokens) | set(candidate.places)
    places = [place for place in entity.inner_places if place not in theirs]
    extra = [token for token in entity.tokens if token not in theirs and weigh(token) >= DISTINCTIVE_WEIGHT]
    if not places and not extra:
        return ()
    if any(weigh(token) == ORG_TYPE_WEIGHT for token in entity.tokens if token not in theirs):
        return ()  # "Hikvision Research Institute" is a body to review by hand, not a subsidiary by its name
    divisions = [
        token for token in entity.tokens if token not in theirs and token not in extra and token in GROUP_WORDS
    ]
    return tuple(dict.fromkeys([*places, *extra, *divisions]))


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(words[start : start + size] == phrase for start in range(len(words) - size + 1))
