"""``detected_card``: one card per event, and an update only when an arrival tells a trader something new.

The novelty rule as a golden table: a confirmed security the earlier cards did not name, or entities when none were
told (a rule that could not be parsed now can be), makes an update card (``update-N`` after N cards); anything
else (the same securities again, a new name only in the review band) makes none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.models import (
    ActionKind,
    AnnouncementSource,
    FeedName,
    ListingAction,
    Match,
    ParseStatus,
    Relation,
    Security,
)
from monitor.pipeline.detected import detected_card
from monitor.pipeline.facts import EventFacts

FILED = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)
FACTS = EventFacts(
    document_number="2019-22210",
    title="Addition of Certain Entities to the Entity List",
    source=FeedName.PUBLIC_INSPECTION,
    agencies=("industry-and-security-bureau", "commerce-department"),
    action="Final rule.",
    filed_at=FILED,
    filing_type="special",
    pi_seen_at=FILED,
    publication_date=None,
    effective_on=None,
    first_seen_at=FILED,
    html_url=None,
    public_inspection_pdf_url=None,
    parse_status=ParseStatus.TEXT_FALLBACK,
    parse_error=None,
)
HIKVISION = ListingAction(action=ActionKind.ADD, entity_name="Hangzhou Hikvision Digital Technology", country="China")


def security(symbol: str) -> Security:
    return Security(
        symbol=symbol, issuer_name=symbol, exchange_mic="XSHE", country="CN", currency="CNY", benchmark="000300.SS"
    )


def match(symbol: str, *, confirmed: bool = True) -> Match:
    return Match(
        symbol=symbol,
        issuer=symbol,
        relation=Relation.DIRECT,
        score=0.97 if confirmed else 0.8,
        confirmed=confirmed,
        reason="test",
        entity_name=HIKVISION.entity_name,
    )


def card(symbols: Sequence[str], entities: bool) -> dict[str, Any]:
    """An earlier card's stored payload, as the outbox keeps it (only what the rule reads)."""
    return {"securities": [{"symbol": s} for s in symbols], "entities": [{"name": "x"}] if entities else []}


def decide(
    best: Mapping[str, Match], actions: Sequence[ListingAction], earlier: Sequence[Mapping[str, Any]]
) -> str | None:
    alert = detected_card(
        event_id=1,
        announced_at=FILED,
        announced_source=AnnouncementSource.PI_FILED_AT,
        facts=FACTS,
        actions=actions,
        best=best,
        securities={symbol: security(symbol) for symbol in best},
        quotes={},
        earlier=earlier,
    )
    return None if alert is None else alert.group


HIK, DAHUA = "002415.SZ", "002236.SZ"
GOLDEN: list[tuple[str, dict[str, Match], list[ListingAction], list[dict[str, Any]], str | None]] = [
    ("the first arrival: the event's card", {HIK: match(HIK)}, [HIKVISION], [], "all"),
    ("a failed parse still gets its card", {}, [], [], "all"),
    ("the same again: nothing", {HIK: match(HIK)}, [HIKVISION], [card([HIK], True)], None),
    (
        "a new confirmed security: an update",
        {HIK: match(HIK), DAHUA: match(DAHUA)},
        [HIKVISION],
        [card([HIK], True)],
        "update-1",
    ),
    (
        "a new name in the review band only: nothing",
        {HIK: match(HIK), DAHUA: match(DAHUA, confirmed=False)},
        [HIKVISION],
        [card([HIK], True)],
        None,
    ),
    ("entities where none were told: an update", {}, [HIKVISION], [card([], False)], "update-1"),
    ("still no entities and no securities: nothing", {}, [], [card([], False)], None),
    (
        "a security any earlier card named is not new",
        {HIK: match(HIK), DAHUA: match(DAHUA)},
        [HIKVISION],
        [card([HIK], True), card([DAHUA], True)],
        None,
    ),
    (
        "after two cards the next update is the third",
        {HIK: match(HIK), DAHUA: match(DAHUA), "300188.SZ": match("300188.SZ")},
        [HIKVISION],
        [card([HIK], True), card([DAHUA], True)],
        "update-2",
    ),
]


@pytest.mark.parametrize(
    ("best", "actions", "earlier", "group"), [row[1:] for row in GOLDEN], ids=[row[0] for row in GOLDEN]
)
def test_detected_card_novelty_golden_table(
    best: dict[str, Match], actions: list[ListingAction], earlier: list[dict[str, Any]], group: str | None
) -> None:
    assert decide(best, actions, earlier) == group


def test_the_card_names_the_filers_and_the_public_inspection_pdf() -> None:
    alert = detected_card(
        event_id=1,
        announced_at=FILED,
        announced_source=AnnouncementSource.PI_FILED_AT,
        facts=FACTS,
        actions=[HIKVISION],
        best={HIK: match(HIK)},
        securities={HIK: security(HIK)},
        quotes={},
        earlier=[],
    )
    assert alert is not None
    assert alert.filed_by == ("Bureau of Industry and Security", "Department of Commerce")
    assert alert.public_inspection_pdf_url == "https://public-inspection.federalregister.gov/2019-22210.pdf"
    assert alert.federal_register_url == "https://www.federalregister.gov/d/2019-22210"
    assert [line.symbol for line in alert.securities] == [HIK]
