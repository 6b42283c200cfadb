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
from monitor.matching.index import MatchIndex, Target, TargetKind, Variant
from monitor.matching.lexicon import COUNTRY_REGIONS
from monitor.matching.normalize import entity_names, normalize_name
from monitor.matching.records import ExposureRecord, LinkRole, security_role
from monitor.matching.scoring import PairScore, score_pair
from monitor.models import ActionKind, ListingAction, ListingStatus, Match, Relation, Security

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


class Matcher:
    """Matches listing actions against one index snapshot; cheap to call, safe to share between threads."""

    def __init__(self, index: MatchIndex, settings: MatchingSettings | None = None) -> None:
        self.index = index
        self.settings = settings or MatchingSettings()

    def match(self, action: ListingAction, *, as_of: date | None = None) -> list[Match]:
        """Ranked matches; with ``as_of`` (the announcement day) each says whether its security traded then."""
        hits = self._hits([action.entity_name, *action.aliases], action.country_iso)
        matches: dict[tuple[str, Relation], Match] = {}
        for target_number, hit in hits.items():
            for match in self._expand(action, self.index.targets[target_number], target_number, hit):
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
                pair = score_pair(form, variant.form, self.index.weight, self.index.descriptors[variant.target])
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
                if current is None or score > current.score:
                    best[variant.target] = _Hit(score, pair, name, variant)
        if any(hit.score >= 1.0 for hit in best.values()):
            best = {target: hit for target, hit in best.items() if hit.score >= 1.0}
        else:
            best = self._penalise_ambiguity(best)
        return {target: hit for target, hit in best.items() if hit.score >= self.settings.review_threshold}

    def _penalise_ambiguity(self, best: dict[int, _Hit]) -> dict[int, _Hit]:
        """Several listed names fitting a partial match about equally well ("Inspur") need a human to choose."""
        if len(best) < 2:
            return best
        top = max(hit.score for hit in best.values())
        rivals = {target for target, hit in best.items() if top - hit.score <= AMBIGUITY_MARGIN}
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
                reason = f"{identity}, which {role} {security.issuer_name} (curated link)"
                relation = Relation(link.relation.value)
                found.append(
                    self._match(
                        action, security, relation, hit, reason, method="link", extra={"link_source": link.source or ""}
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
        score = round(max(0.0, min(1.0, hit.score)), 4)
        features: dict[str, str | float] = {
            "name_method": hit.pair.method,
            "name_score": score,
            "entity_name_used": hit.entity_name,
            "matched_name": hit.variant.form.original,
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
            confirmed=score >= self.settings.auto_threshold,
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
    theirs = f"{kind} {'alias' if hit.variant.is_alias else 'name'} '{hit.variant.form.original}'"
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


def _exposure_reason(
    security: Security, exposure: ExposureRecord, target: Target, identity: str, via: Security | None
) -> str:
    relation = security_role(exposure.relation)
    verb = {Relation.SUPPLIER: "supplies", Relation.CUSTOMER: "buys from", Relation.COMPETITOR: "competes with"}[
        relation
    ]
    counterparty = via.issuer_name if via is not None else target.name
    share = f"{exposure.weight:.0%} of revenue" if exposure.weight is not None else "revenue share undisclosed"
    if relation is Relation.COMPETITOR:
        share = "rival"
    text = f"{security.issuer_name} ({security.symbol}) {verb} {counterparty} ({share})"
    if via is not None:
        text += f", controlled by the listed entity: {identity}"
    else:
        text += f": {identity}"
    return text
