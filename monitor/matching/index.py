"""The match index: a universe snapshot turned into lookup tables, built once and then only read.

Targets are what an entity name can turn out to be: a listed issuer (one target for all its listings), an entity
from the curated corporate links (CETC), or an unlisted exposure counterparty (Huawei). Every name of a target is
normalized once; exact keys go in dictionaries, distinctive tokens in posting lists, and long distinctive tokens
in a one-deletion neighbourhood table so a misspelt token finds its candidates without a scan of the vocabulary.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Protocol, TypeVar

from monitor.matching.derive import acronyms, pinyin_names
from monitor.matching.lexicon import GENERIC, ORG_TYPES
from monitor.matching.normalize import NameForm, normalize_name
from monitor.matching.records import CorporateLinkRecord, ExposureRecord, Universe
from monitor.matching.scoring import DISTINCTIVE_WEIGHT, FUZZY_MIN_LENGTH, GENERIC_WEIGHT, ORG_TYPE_WEIGHT
from monitor.models import Security

# A token carried by more targets than this is treated as generic, whatever the word lists say.
MIN_COMMON_TARGETS = 5
COMMON_TARGET_SHARE = 0.002
MIN_PHRASE, MAX_PHRASE = 2, 4  # names made only of generic words are found by their whole phrase


T_co = TypeVar("T_co", covariant=True)


class _ByNumber(Protocol[T_co]):
    def __getitem__(self, number: int, /) -> T_co: ...


class IndexView(Protocol):
    """What the matcher reads from an index: ``MatchIndex`` in memory, or ``persisted.StoredIndex`` on disk."""

    @property
    def variants(self) -> _ByNumber[Variant]: ...
    @property
    def targets(self) -> _ByNumber[Target]: ...
    @property
    def descriptors(self) -> _ByNumber[frozenset[str]]: ...
    @property
    def securities(self) -> Mapping[str, Security]: ...
    @property
    def issuer_of_symbol(self) -> Mapping[str, int]: ...
    @property
    def exposures_of(self) -> Mapping[int, list[ExposureRecord]]: ...
    @property
    def by_key(self) -> Mapping[str, list[int]]: ...
    @property
    def stats(self) -> dict[str, int]: ...

    def weight(self, token: str) -> float: ...
    def candidates(self, form: NameForm) -> set[int]: ...


class TargetKind(StrEnum):
    ISSUER = "issuer"
    LINKED_ENTITY = "linked_entity"
    COUNTERPARTY = "counterparty"


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    name: str
    securities: tuple[Security, ...] = ()  # an issuer's listings
    links: tuple[CorporateLinkRecord, ...] = ()  # a linked entity's control relations
    country: str | None = None


class NameOrigin(StrEnum):
    """Where a name of a target comes from; derived names are weaker evidence than names a source gave."""

    NAME = "name"  # the legal name (issuer name, curated entity name, counterparty)
    ALIAS = "alias"  # an alias a source gave: short, Chinese, former or English name
    PINYIN = "pinyin"  # derived: the pinyin spelling of one of its Chinese names
    ACRONYM = "acronym"  # derived: the initials of its legal name


@dataclass(frozen=True, slots=True)
class Variant:
    """One name of a target: its legal name (``is_alias`` False), an alias, or a name derived from one."""

    target: int
    form: NameForm
    is_alias: bool
    origin: NameOrigin = NameOrigin.NAME
    derived_from: str = ""  # the Chinese name a pinyin spelling was made from, the name an acronym abbreviates


@dataclass(frozen=True, slots=True)
class UniverseName:
    """One name the universe knows, as ``MatchIndex.names`` yields it."""

    text: str  # as written (or derived: "Zhongke Shuguang", "SMIC")
    form: NameForm  # normalize_name(text)
    origin: NameOrigin
    kind: TargetKind  # issuer, curated entity or exposure counterparty
    target: str  # the issuer's, entity's or counterparty's name
    symbols: tuple[str, ...]


@dataclass
class MatchIndex:
    targets: list[Target] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    by_key: dict[str, list[int]] = field(default_factory=dict)
    by_core: dict[str, list[int]] = field(default_factory=dict)
    by_han: dict[str, list[int]] = field(default_factory=dict)
    by_han_core: dict[str, list[int]] = field(default_factory=dict)
    postings: dict[str, list[int]] = field(default_factory=dict)
    phrases: dict[str, list[int]] = field(default_factory=dict)  # all-generic names by joined tokens
    deletions: dict[str, list[str]] = field(default_factory=dict)
    document_frequency: dict[str, int] = field(default_factory=dict)
    common_cutoff: int = MIN_COMMON_TARGETS
    issuer_of_symbol: dict[str, int] = field(default_factory=dict)
    exposures_of: dict[int, list[ExposureRecord]] = field(default_factory=dict)
    securities: dict[str, Security] = field(default_factory=dict)
    descriptors: list[frozenset[str]] = field(default_factory=list)  # per target: generic words in its names

    @classmethod
    def cached(cls, universe: Universe) -> MatchIndex:
        """``build``, shared by content: the same snapshot (from any database) reuses the last index built."""
        key = universe.digest()
        index = _BUILT.get(key)
        if index is None:
            index = cls.build(universe)
            _BUILT.clear()  # one index kept: a universe changes rarely, and an old one is garbage
            _BUILT[key] = index
        return index

    @classmethod
    def build(cls, universe: Universe) -> MatchIndex:
        with collector_paused():
            return cls._build(universe)

    @classmethod
    def _build(cls, universe: Universe) -> MatchIndex:
        universe = universe.restricted()
        index = cls()
        index.securities = {security.symbol: security for security in universe.securities}
        issuers: dict[str, list[Security]] = defaultdict(list)
        for security in universe.securities:
            issuers[security.issuer_name].append(security)
        for name, listings in issuers.items():
            target = index._add_target(
                Target(TargetKind.ISSUER, name, securities=tuple(listings), country=listings[0].country)
            )
            aliases = dict.fromkeys(alias for listing in listings for alias in listing.aliases)
            index._add_names(target, name, aliases)
            for listing in listings:
                index.issuer_of_symbol[listing.symbol] = target
        linked: dict[str, list[CorporateLinkRecord]] = defaultdict(list)
        for link in universe.links:
            linked[link.entity_name].append(link)
        for name, links in linked.items():
            target = index._add_target(Target(TargetKind.LINKED_ENTITY, name, links=tuple(links)))
            index._add_names(target, name, dict.fromkeys(alias for link in links for alias in link.aliases))
        index._finish_exact()
        for exposure in universe.exposures:
            index._attach_exposure(exposure)
        index._finish_tokens()
        return index

    # --- building --------------------------------------------------------------------------------------------

    def _add_target(self, target: Target) -> int:
        self.targets.append(target)
        return len(self.targets) - 1

    def _add_names(self, target: int, name: str, aliases: Iterable[str], *, derive: bool = True) -> None:
        """The target's names, then (with ``derive``) pinyin spellings of its Chinese names and its acronyms."""
        given = [(name, NameOrigin.NAME, ""), *((alias, NameOrigin.ALIAS, "") for alias in aliases)]
        derived: list[tuple[str, NameOrigin, str]] = []
        if derive:
            for text, _, _ in given:
                derived += [(spelling, NameOrigin.PINYIN, text) for spelling in pinyin_names(text)]
            derived += [(initials, NameOrigin.ACRONYM, name) for initials in acronyms(name)]
        seen: set[tuple[str, str, tuple[str, ...]]] = set()
        seen_keys: set[tuple[str, str]] = set()
        for text, origin, source in [*given, *derived]:
            form = normalize_name(text)
            if form.is_empty or (form.key, form.han, form.tokens) in seen:
                continue
            if origin is not NameOrigin.NAME and (form.key, form.han) in seen_keys:
                continue  # a joined spelling of a name already held adds nothing an exact key would not find
            seen.add((form.key, form.han, form.tokens))
            seen_keys.add((form.key, form.han))
            self.variants.append(Variant(target, form, origin is not NameOrigin.NAME, origin, source))

    def _finish_exact(self) -> None:
        self.by_key, self.by_core, self.by_han, self.by_han_core = {}, {}, {}, {}
        self._index_exact(range(len(self.variants)))

    def _index_exact(self, numbers: Iterable[int]) -> None:
        by_key, by_core, by_han, by_han_core = self.by_key, self.by_core, self.by_han, self.by_han_core
        for number in numbers:
            form = self.variants[number].form
            if form.key:
                by_key.setdefault(form.key, []).append(number)
            if form.core_key:
                by_core.setdefault(form.core_key, []).append(number)
            if form.han:
                by_han.setdefault(form.han, []).append(number)
            if form.han_core:
                by_han_core.setdefault(form.han_core, []).append(number)

    def _resolve(self, name: str) -> int | None:
        """The issuer or linked entity a counterparty name exactly denotes, if any."""
        form = normalize_name(name)
        for table, value in ((self.by_key, form.key), (self.by_han, form.han)):
            for number in table.get(value, []) if value else []:
                return self.variants[number].target
        return None

    def _attach_exposure(self, exposure: ExposureRecord) -> None:
        target = self._resolve(exposure.counterparty)
        if target is None:
            target = self._add_target(Target(TargetKind.COUNTERPARTY, exposure.counterparty))
            start = len(self.variants)
            self._add_names(target, exposure.counterparty, (), derive=False)
            self._index_exact(range(start, len(self.variants)))
        self.exposures_of.setdefault(target, []).append(exposure)

    def _finish_tokens(self) -> None:
        per_target: dict[str, set[int]] = defaultdict(set)
        for variant in self.variants:
            for token in variant.form.tokens:
                per_target[token].add(variant.target)
        self.document_frequency = {token: len(targets) for token, targets in per_target.items()}
        self.common_cutoff = max(MIN_COMMON_TARGETS, int(COMMON_TARGET_SHARE * len(self.targets)))
        weights = {token: self.weight(token) for token in self.document_frequency}  # every token's, asked once
        postings: dict[str, list[int]] = defaultdict(list)
        phrases: dict[str, list[int]] = defaultdict(list)
        descriptors: list[set[str]] = [set() for _ in self.targets]
        for number, variant in enumerate(self.variants):
            tokens = variant.form.tokens
            for token in set(tokens):
                if weights[token] >= DISTINCTIVE_WEIGHT:
                    postings[token].append(number)
            if MIN_PHRASE <= len(tokens) <= MAX_PHRASE and all(weights[t] < DISTINCTIVE_WEIGHT for t in tokens):
                phrases["".join(tokens)].append(number)  # "China Communications Construction": the phrase is the name
            descriptors[variant.target].update(t for t in tokens if weights[t] == GENERIC_WEIGHT)
        self.postings = dict(postings)
        self.phrases = dict(phrases)
        self.descriptors = [frozenset(words) for words in descriptors]
        deletions: dict[str, list[str]] = defaultdict(list)
        for token in self.postings:
            if len(token) >= FUZZY_MIN_LENGTH:
                for key in _one_deletions(token):
                    deletions[key].append(token)
        self.deletions = dict(deletions)

    # --- reading ---------------------------------------------------------------------------------------------

    def weight(self, token: str) -> float:
        """How much a token says about identity: generic words and words many issuers share weigh little."""
        if token in ORG_TYPES:
            return ORG_TYPE_WEIGHT
        if token in GENERIC or self.document_frequency.get(token, 0) > self.common_cutoff:
            return GENERIC_WEIGHT
        return DISTINCTIVE_WEIGHT

    def similar_tokens(self, token: str) -> set[str]:
        """Vocabulary tokens within one edit (insert, delete, substitute, swap) of a long token."""
        if len(token) < FUZZY_MIN_LENGTH:
            return set()
        found: set[str] = set()
        for key in _one_deletions(token):
            found.update(self.deletions.get(key, ()))
        found.discard(token)
        return found

    def _exact_tables(self, form: NameForm) -> tuple[tuple[dict[str, list[int]], str], ...]:
        """Each exact-lookup table with the key ``form`` has in it (empty keys are skipped by the callers)."""
        return (
            (self.by_key, form.key),
            (self.by_core, form.core_key),
            (self.by_han, form.han),
            (self.by_han_core, form.han_core),
        )

    def candidates(self, form: NameForm) -> set[int]:
        """Variant numbers worth scoring against ``form``: exact keys, then shared or near distinctive tokens."""
        found: set[int] = set()
        for table, value in self._exact_tables(form):
            if value:
                found.update(table.get(value, ()))
        tokens = list(form.tokens)
        for first, second in pairwise(tokens):
            found.update(self.postings.get(first + second, ()))  # "great wall" finds "greatwall"
        for size in range(MIN_PHRASE, min(MAX_PHRASE, len(tokens)) + 1):
            for start in range(len(tokens) - size + 1):
                found.update(self.phrases.get("".join(tokens[start : start + size]), ()))
        for token in tokens:
            if self.weight(token) < DISTINCTIVE_WEIGHT:
                continue
            found.update(self.postings.get(token, ()))
            for near in self.similar_tokens(token):
                found.update(self.postings.get(near, ()))
        return found

    def names(self) -> Iterator[UniverseName]:
        """Every name of every target, normalized: legal names, aliases, pinyin spellings and initials, each with the
        symbols it leads to (a curated entity's linked listings, an exposure counterparty's exposed ones).

        The public way to read the universe's vocabulary (name spotting in rule text uses it): the same names, in the
        same normal form, that the matcher compares.
        """
        for variant in self.variants:
            target = self.targets[variant.target]
            if target.kind is TargetKind.ISSUER:
                symbols = tuple(security.symbol for security in target.securities)
            elif target.kind is TargetKind.LINKED_ENTITY:
                symbols = tuple(dict.fromkeys(link.symbol for link in target.links))
            else:
                symbols = tuple(dict.fromkeys(e.symbol for e in self.exposures_of.get(variant.target, [])))
            yield UniverseName(variant.form.original, variant.form, variant.origin, target.kind, target.name, symbols)

    @property
    def stats(self) -> dict[str, int]:
        return {
            "securities": len(self.securities),
            "targets": len(self.targets),
            "names": len(self.variants),
            "distinctive_tokens": len(self.postings),
        }


_BUILT: dict[str, MatchIndex] = {}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while an index is built (or a universe snapshot is loaded).

    A build allocates a few hundred thousand small objects (name forms, variants, posting lists) and no reference
    cycles, so every collection the allocations trigger rescans the growing heap and frees nothing: about half of
    a build's time once the names are normalized, at 30,000 listings.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _one_deletions(token: str) -> set[str]:
    return {token} | {token[:position] + token[position + 1 :] for position in range(len(token))}
