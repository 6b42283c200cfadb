"""Precision and recall of the matcher on a labelled set (``entity_name,expected_ticker,relation,notes``).

Counted on confirmed matches only, since those are what alerts go out on. A prediction is a confirmed match whose
relation identifies the issuer (direct, parent, subsidiary); it is right when its ticker is expected for the row,
or named in the row's notes as another listing of the same group (a parent's other listed subsidiaries), and its
relation is the row's. Recall is the share of rows for which an expected ticker was confirmed with the right
relation. Rows labelled ``none`` must get no confirmed identifying match at all.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.matching.matcher import Matcher
from monitor.matching.records import Universe
from monitor.models import Relation

IDENTIFYING = frozenset({Relation.DIRECT, Relation.PARENT, Relation.SUBSIDIARY})
_NOTE_TICKER = re.compile(r"\b\d{4,6}\.(?:SZ|SS|HK|T)\b")


@dataclass(frozen=True)
class LabeledRow:
    entity_name: str
    expected: frozenset[str]
    relation: str  # direct | parent | subsidiary | none
    acceptable: frozenset[str]  # expected plus tickers the notes name as the same group's listings


@dataclass
class Evaluation:
    rows: int = 0
    rows_found: int = 0
    true_positives: int = 0
    false_positives: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    none_confirmed: list[str] = field(default_factory=list)  # 'none' rows that got a confirmed identifying match
    none_review: list[str] = field(default_factory=list)  # 'none' rows left in the review band (allowed)

    @property
    def precision(self) -> float:
        predicted = self.true_positives + len(self.false_positives)
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        return self.rows_found / self.rows if self.rows else 1.0


def parse_labeled(text: str) -> list[LabeledRow]:
    rows: list[LabeledRow] = []
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        expected = frozenset(ticker.strip() for ticker in row["expected_ticker"].split("|") if ticker.strip())
        acceptable = expected | frozenset(_NOTE_TICKER.findall(row.get("notes") or ""))
        rows.append(LabeledRow(row["entity_name"].strip(), expected, row["relation"].strip(), acceptable))
    return rows


def evaluate(
    matcher: Matcher, rows: Iterable[LabeledRow], relations: Iterable[str] = ("direct", "parent")
) -> Evaluation:
    scored = set(relations)
    result = Evaluation()
    for row in rows:
        matches = matcher.match_name(row.entity_name)
        identifying = [m for m in matches if m.confirmed and m.relation in IDENTIFYING]
        if row.relation == "none":
            if identifying:
                result.none_confirmed.append(f"{row.entity_name} -> {', '.join(m.symbol for m in identifying)}")
            elif any(m.relation in IDENTIFYING for m in matches):
                result.none_review.append(row.entity_name)
            continue
        if row.relation not in scored:
            continue
        result.rows += 1
        found = False
        for match in identifying:
            if match.symbol in row.acceptable and match.relation.value == row.relation:
                result.true_positives += 1
                found = found or match.symbol in row.expected
            else:
                result.false_positives.append(f"{row.entity_name} -> {match.symbol} {match.relation.value}")
        if found:
            result.rows_found += 1
        else:
            result.missed.append(row.entity_name)
    return result


def without_curated_aliases(universe: Universe, rows: Iterable[LabeledRow]) -> Universe:
    """The universe with every curated alias of the labelled entities removed: names the matcher has not seen.

    For each expected ticker of a direct, parent or subsidiary row, its listings lose their aliases (short, Chinese,
    former and English names) and the curated links to it lose theirs; what is left is each listing's legal name
    as its list gives it, and each curated entity's name. Derived names (pinyin, initials) then come only from
    what is left, so recall measures how the matcher generalises rather than what the seed spelled out.
    """
    symbols = {ticker for row in rows if row.relation != "none" for ticker in row.expected}
    return Universe(
        tuple(s.model_copy(update={"aliases": ()}) if s.symbol in symbols else s for s in universe.securities),
        tuple(link.model_copy(update={"aliases": ()}) if link.symbol in symbols else link for link in universe.links),
        universe.exposures,
    )
