"""The matcher: a listing action in, ranked and explained matches out. Pure: no I/O, no clock.

For every name of the action (its name and aliases) the index proposes candidates and ``score_pair`` scores them;
each target keeps its best score. An exact identification (the same name apart from legal form and punctuation)
settles the question: partial matches to other companies are then dropped. Targets above the review threshold
expand into matches: an issuer into its listings (direct), a curated entity into the securities it controls or
belongs to (parent, subsidiary), and an issuer, parent or exposure counterparty into the securities exposed to it
(supplier, customer, competitor), with weight and source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from monitor.config import MatchingSettings
from monitor.matching.index import IndexView, NameOrigin, Target, TargetKind, Variant
from monitor.matching.lexicon import COUNTRY_REGIONS
from monitor.matching.normalize import NameForm, entity_names, normalize_name
from monitor.matching.records import CorporateLinkRecord, ExposureRecord, LinkRole, security_role
from monitor.matching.scoring import (
    ACRONYM_SCORE,
    MIN_ACRONYM_CONFIRM,
    SHARED_ACRONYM_SCORE,
    SUBSIDIARY_BY_NAME_SCORE,
    PairScore,
    embedded_qualifiers,
    exposure_strength,
    score_pair,
)
from monitor.models import ActionKind, ListingAction, ListingStatus, Match, Relation, Security

GLEIF_SOURCE = "GLEIF:"  # link sources written by gleif.ownership_links start so
COUNTRY_MISMATCH_PENALTY = 0.05
AMBIGUITY_MARGIN = 0.03  # partial matches this close to the best one are equally plausible readings
AMBIGUITY_PENALTY = 0.06  # ... so none of them is confirmed without a human
_RELATION_ORDER = {relation: rank for rank, relation in enumerate(Relation)}


@dataclass(frozen=True, slots=True)
class _Hit:
    """The best evidence that the action names one target."""

    score: float
    pair: PairScore
    entity_name: str
    variant: Variant
    qualifiers: tuple[str, ...] = ()  # set for a subsidiary proposed by name: what the entity adds to the name


class Matcher:
    """Matches listing actions against one index snapshot; cheap to call, safe to share between threads."""

    def __init__(self, index: IndexView, settings: MatchingSettings | None = None) -> None:
        self.index = index
        self.settings = settings or MatchingSettings()

    def match(self, action: ListingAction, *, as_of: date | None = None) -> list[Match]:
        """Ranked matches; with ``as_of`` (the announcement day) each says whether its security traded then."""
        hits = self._hits([action.entity_name, *action.aliases], action.country_iso)
        matches: dict[tuple[str, Relation], Match] = {}
        for target_number, hit in hits.items():
            target = self.index.targets[target_number]
            expanded = (
                self._proposed_subsidiary(action, target, hit)
                if hit.qualifiers
                else self._expand(action, target, target_number, hit)
            )
            for match in expanded:
                if as_of is not None:
                    match = _with_listing_status(match, self.index.securities[match.symbol], as_of)
                key = (match.symbol, match.relation)
                if key not in matches or _preference(match) > _preference(matches[key]):
                    matches[key] = match
        return sorted(
            matches.values(),
            key=lambda m: (-m.score, _RELATION_ORDER[m.relation], -(m.weight or 0.0), m.symbol),
        )

    def match_name(
        self, name: str, aliases: Sequence[str] = (), country_iso: str | None = None, *, as_of: date | None = None
    ) -> list[Match]:
        action = ListingAction(action=ActionKind.ADD, entity_name=name, aliases=tuple(aliases), country_iso=country_iso)
        return self.match(action, as_of=as_of)

    def match_many(self, actions: Iterable[ListingAction]) -> list[list[Match]]:
        """Re-screening: the same index for every action, so a whole rule or list costs one index build."""
        return [self.match(action) for action in actions]

    # --- identification --------------------------------------------------------------------------------------

    def _hits(self, names: Sequence[str], country_iso: str | None) -> dict[int, _Hit]:
        best: dict[int, _Hit] = {}
        region = COUNTRY_REGIONS.get(country_iso.upper(), country_iso.upper()) if country_iso else None
        readings = (reading for name in names if name.strip() for reading in entity_names(name.strip()))
        for name in dict.fromkeys(readings):
            form = normalize_name(name)
            if form.is_empty:
                continue
            for number in self.index.candidates(form):
                variant = self.index.variants[number]
                proposal = self._subsidiary_by_name(name, form, variant)
                if proposal is not None:
                    current = best.get(variant.target)
                    if current is None or (current.qualifiers and proposal.score > current.score):
                        best[variant.target] = proposal
                    continue
                pair = score_pair(form, variant.form, self.index.weight, self.index.descriptors[variant.target])
                if pair is not None and variant.origin is NameOrigin.ACRONYM:
                    pair = self._acronym(pair, variant)
                if pair is None:
                    continue
                score = pair.score
                if region and pair.score < 1.0 and self._foreign(variant.target, region):
                    score -= COUNTRY_MISMATCH_PENALTY
                    pair = PairScore(
                        score,
                        pair.method,
                        pair.shared,
                        pair.fuzzy,
                        (*pair.penalties, f"listed outside the entity's country (-{COUNTRY_MISMATCH_PENALTY:.2f})"),
                    )
                current = best.get(variant.target)
                if current is None or current.qualifiers or score > current.score:
                    best[variant.target] = _Hit(score, pair, name, variant)
        if any(hit.score >= 1.0 for hit in best.values()):
            best = {target: hit for target, hit in best.items() if hit.score >= 1.0}
        else:
            best = self._penalise_ambiguity(self._issuer_over_its_units(best))
        return {target: hit for target, hit in best.items() if hit.score >= self.settings.review_threshold}

    def _acronym(self, pair: PairScore, variant: Variant) -> PairScore | None:
        """Initials identify an issuer only as the whole entity name, and confirm only when no other target has them."""
        if pair.method != "exact":
            return None
        owners = {self.index.variants[n].target for n in self.index.by_key.get(variant.form.key, ())}
        unique = len(owners) == 1 and len(variant.form.key) >= MIN_ACRONYM_CONFIRM
        score = ACRONYM_SCORE if unique else SHARED_ACRONYM_SCORE
        why = () if unique else (f"initials shared by {len(owners)} names or too short to confirm alone",)
        return PairScore(score, "acronym", pair.shared, pair.fuzzy, (*pair.penalties, *why))

    def _subsidiary_by_name(self, name: str, form: NameForm, variant: Variant) -> _Hit | None:
        """A listed issuer's name embedded with a place or division qualifier: proposed as its subsidiary (review)."""
        if self.index.targets[variant.target].kind is not TargetKind.ISSUER:
            return None
        qualifiers = embedded_qualifiers(form, variant.form, self.index.weight)
        if not qualifiers:
            return None
        shared = tuple(token for token in variant.form.tokens if token in form.tokens)
        pair = PairScore(SUBSIDIARY_BY_NAME_SCORE, "embedded", shared)
        return _Hit(SUBSIDIARY_BY_NAME_SCORE, pair, name, variant, qualifiers)

    def _proposed_subsidiary(self, action: ListingAction, target: Target, hit: _Hit) -> list[Match]:
        """The issuer's listings as the proposed parents of an entity whose name embeds the issuer's name."""
        theirs = "name" if hit.variant.origin is NameOrigin.NAME else f"{hit.variant.origin.value} name"
        reason = (
            f"entity name '{hit.entity_name}' embeds the issuer {theirs} '{hit.variant.form.original}' "
            f"qualified by '{' '.join(hit.qualifiers)}': proposed as a subsidiary of {target.name} "
            "(a curated link or ownership record would confirm it)"
        )
        extra = {"qualifiers": " ".join(hit.qualifiers)}
        return [
            self._match(action, security, Relation.SUBSIDIARY, hit, reason, method="name_embedded", extra=extra)
            for security in target.securities
        ]

    def _issuer_over_its_units(self, best: dict[int, _Hit]) -> dict[int, _Hit]:
        """A name that fits a listed issuer and, as loosely, one of its own curated units names the issuer.

        "Sense Time" fits SenseTime Group and its unit Beijing SenseTime: both lead to 0020.HK, so they are one
        reading, not two rival ones; the unit's partial fit is dropped.
        """
        issued: set[str] = set()
        for target_number, hit in best.items():
            target = self.index.targets[target_number]
            if target.kind is TargetKind.ISSUER and not hit.qualifiers:
                issued.update(security.symbol for security in target.securities)
        if not issued:
            return best
        kept: dict[int, _Hit] = {}
        for target_number, hit in best.items():
            target = self.index.targets[target_number]
            own_unit = target.kind is TargetKind.LINKED_ENTITY and {link.symbol for link in target.links} <= issued
            if not own_unit:
                kept[target_number] = hit
        return kept

    def _penalise_ambiguity(self, best: dict[int, _Hit]) -> dict[int, _Hit]:
        """Several listed names fitting a partial match about equally well ("Inspur") need a human to choose."""
        if len(best) < 2:
            return best
        readings = {
            target: hit for target, hit in best.items() if not hit.qualifiers and hit.pair.method != "acronym"
        }  # proposals and shared initials already carry their own doubt
        if len(readings) < 2:
            return best
        top = max(hit.score for hit in readings.values())
        rivals = {target for target, hit in readings.items() if top - hit.score <= AMBIGUITY_MARGIN}
        if len(rivals) < 2:
            return best
        names = sorted(self.index.targets[target].name for target in rivals)
        shown = "; ".join(names[:3])
        why = f"ambiguous: {len(rivals)} listed names fit about equally ({shown}) (-{AMBIGUITY_PENALTY:.2f})"
        adjusted = dict(best)
        for target in rivals:
            hit = best[target]
            pair = hit.pair
            score = hit.score - AMBIGUITY_PENALTY
            adjusted[target] = _Hit(
                score,
                PairScore(score, pair.method, pair.shared, pair.fuzzy, (*pair.penalties, why)),
                hit.entity_name,
                hit.variant,
            )
        return adjusted

    def _foreign(self, target_number: int, region: str) -> bool:
        country = self.index.targets[target_number].country
        return country is not None and COUNTRY_REGIONS.get(country, country) != region

    # --- expansion -------------------------------------------------------------------------------------------

    def _expand(self, action: ListingAction, target: Target, number: int, hit: _Hit) -> list[Match]:
        found: list[Match] = []
        identity = _identity_reason(hit, target)
        if target.kind is TargetKind.ISSUER:
            for security in target.securities:
                found.append(self._match(action, security, Relation.DIRECT, hit, identity, method="name"))
            found += self._exposed(action, number, hit, identity, via=None)
        elif target.kind is TargetKind.LINKED_ENTITY:
            for link in target.links:
                security = self.index.securities[link.symbol]
                role = "controls" if link.relation is LinkRole.PARENT else "is a subsidiary of"
                reason = f"{identity}, which {role} {security.issuer_name} ({_link_evidence(link)})"
                relation = Relation(link.relation.value)
                found.append(
                    self._match(
                        action,
                        security,
                        relation,
                        hit,
                        reason,
                        method="ownership" if (link.source or "").startswith(GLEIF_SOURCE) else "link",
                        extra={"link_source": link.source or ""},
                    )
                )
                if link.relation is LinkRole.PARENT:
                    issuer = self.index.issuer_of_symbol[link.symbol]
                    found += self._exposed(action, issuer, hit, identity, via=security)
            found += self._exposed(action, number, hit, identity, via=None)
        else:
            found += self._exposed(action, number, hit, identity, via=None)
        return found

    def _exposed(
        self, action: ListingAction, target_number: int, hit: _Hit, identity: str, via: Security | None
    ) -> list[Match]:
        target = self.index.targets[target_number]
        own = {security.symbol for security in target.securities}
        found: list[Match] = []
        for exposure in self.index.exposures_of.get(target_number, []):
            if exposure.symbol in own:
                continue
            security = self.index.securities[exposure.symbol]
            relation = security_role(exposure.relation)
            reason = _exposure_reason(security, exposure, target, identity, via)
            extra = {"exposure_source": exposure.source or "", "counterparty": exposure.counterparty}
            if exposure.year is not None:
                extra["exposure_year"] = str(exposure.year)
            if via is not None:
                extra["via"] = via.symbol
            found.append(
                self._match(
                    action, security, relation, hit, reason, method="exposure", weight=exposure.weight, extra=extra
                )
            )
        return found

    def _match(
        self,
        action: ListingAction,
        security: Security,
        relation: Relation,
        hit: _Hit,
        reason: str,
        *,
        method: str,
        weight: float | None = None,
        extra: dict[str, str] | None = None,
    ) -> Match:
        identity = round(max(0.0, min(1.0, hit.score)), 4)
        score = identity if method != "exposure" else round(identity * exposure_strength(weight), 4)
        features: dict[str, str | float] = {
            "name_method": hit.pair.method,
            "name_score": identity,
            "entity_name_used": hit.entity_name,
            "matched_name": hit.variant.form.original,
            "name_origin": hit.variant.origin.value,
            "normalized_entity": normalize_name(hit.entity_name).key or normalize_name(hit.entity_name).han,
            "normalized_match": hit.variant.form.key or hit.variant.form.han,
        }
        if hit.pair.shared:
            features["distinctive_tokens"] = " ".join(hit.pair.shared)
        if hit.pair.penalties:
            features["penalties"] = "; ".join(hit.pair.penalties)
        features.update(extra or {})
        return Match(
            symbol=security.symbol,
            issuer=security.issuer_name,
            relation=relation,
            score=score,
            confirmed=identity >= self.settings.auto_threshold,  # the share ranks an exposure, the name confirms it
            reason=reason,
            method=method,
            entity_name=action.entity_name,
            weight=weight,
            features=features,
        )


_STATUS_WORDS = {ListingStatus.LISTED_LATER: "listed later", ListingStatus.DELISTED: "delisted"}


def _with_listing_status(match: Match, security: Security, day: date) -> Match:
    """The match, saying so when its security did not trade on ``day``: right entity, but no hit for that event."""
    status = security.listing_status(day)
    features = {**match.features, "listing_status": status.value}
    if status is ListingStatus.LISTED:
        return match.model_copy(update={"features": features})
    when = security.listed_on if status is ListingStatus.LISTED_LATER else security.delisted_on
    verb = "first traded" if status is ListingStatus.LISTED_LATER else "stopped trading"
    reason = f"{_STATUS_WORDS[status]}: {verb} {when}, so not trading on {day}; {match.reason}"
    return match.model_copy(update={"features": features, "reason": reason})


def _link_evidence(link: CorporateLinkRecord) -> str:
    """Why a link holds: a curated fact, or GLEIF's ownership path (with BIS's affiliates rule for a parent)."""
    source = link.source or ""
    if not source.startswith(GLEIF_SOURCE):
        return "curated link"
    if link.relation is LinkRole.PARENT:
        return (
            f"{source}; consolidation is control, so under BIS's affiliates rule (entities 50% or more owned by a "
            "listed party) the listed company is itself restricted"
        )
    return source


def _preference(match: Match) -> tuple[float, bool, bool]:
    """Between two ways to the same (security, relation): higher score, then a known weight, then a direct tie."""
    return (match.score, match.weight is not None, "via" not in match.features)


_ROLE_WORDS = {
    TargetKind.ISSUER: "issuer",
    TargetKind.LINKED_ENTITY: "curated entity",
    TargetKind.COUNTERPARTY: "exposure counterparty",
}


def _identity_reason(hit: _Hit, target: Target) -> str:
    """'entity alias 'Hikvision' = issuer alias 'Hikvision'', the words a trader reads first."""
    mine = f"entity name '{hit.entity_name}'"
    kind = _ROLE_WORDS[target.kind]
    variant = hit.variant
    theirs = f"{kind} {'alias' if variant.is_alias else 'name'} '{variant.form.original}'"
    if variant.origin is NameOrigin.PINYIN:
        theirs = f"{kind} name '{variant.derived_from}' in pinyin '{variant.form.original}'"
    elif variant.origin is NameOrigin.ACRONYM:
        theirs = f"{kind} name '{variant.derived_from}' by its initials '{variant.form.original}'"
    pair = hit.pair
    if pair.method in ("exact", "han_exact"):
        text = f"{mine} = {theirs}"
    elif pair.method in ("core", "han_core"):
        text = f"{mine} = {theirs} apart from place names"
    else:
        shared = ", ".join(pair.shared or pair.fuzzy)
        text = f"{mine} ~ {theirs} (shared: {shared}; score {hit.score:.2f})"
    if pair.penalties:
        text += f" [{'; '.join(pair.penalties)}]"
    if target.kind is not TargetKind.ISSUER and hit.variant.form.original != target.name:
        text += f" ({target.name})"
    return text


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _exposure_reason(
    security: Security, exposure: ExposureRecord, target: Target, identity: str, via: Security | None
) -> str:
    relation = security_role(exposure.relation)
    verb = {Relation.SUPPLIER: "supplies", Relation.CUSTOMER: "buys from", Relation.COMPETITOR: "competes with"}[
        relation
    ]
    counterparty = via.issuer_name if via is not None else target.name
    year = f" {exposure.year}" if exposure.year is not None else ""
    share = f"{exposure.weight:.0%} of{year} revenue" if exposure.weight is not None else "revenue share undisclosed"
    if relation is Relation.COMPETITOR:
        share = "rival"
    elif exposure.weight is not None and exposure.source:
        share += f"; source: {_shorten(exposure.source)}"
    text = f"{security.issuer_name} ({security.symbol}) {verb} {counterparty} ({share})"
    if via is not None:
        text += f", controlled by the listed entity: {identity}"
    else:
        text += f": {identity}"
    return text
