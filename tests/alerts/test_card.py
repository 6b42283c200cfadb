"""The detection card of the October 2019 rule, built from real data: its 28 entities as expected_entities.json
lists them, matched by the real matcher against the shipped seed universe, through the pipeline's card builder.

Expected texts are written out by hand from the rule and the seed (issuer names, exchanges), not taken from the
renderer; prices are illustrative quotes, since the card shows whatever quote the pipeline fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import blocks, console
from alerts import text as t
from monitor.matching.csv_files import seed_universe
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.models import ActionKind, AnnouncementSource, ListingAction, ParseStatus, Relation
from monitor.outbox import CARD_SECURITIES, DetectedAlert, EntityLine, EntityListReply, MatchedSecurity
from monitor.pipeline.detected import detected_card, entity_reply
from monitor.pipeline.facts import EventFacts, best_by_symbol
from tests.fakes.slack_server import _block_problem
from tests.paths import SHARED_DATA

RULE = SHARED_DATA / "feeds" / "entity_list_2019-22210"
FILED_AT = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)
DIRECT = {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ"}


def _actions() -> list[ListingAction]:
    expected = json.loads((RULE / "expected_entities.json").read_text(encoding="utf-8"))
    return [
        ListingAction(
            entity_name=e["name"],
            aliases=tuple(e["aliases"]),
            country=e["country_iso"],
            addresses=tuple(e["addresses"]),
            action=ActionKind(e["action"]),
        )
        for e in expected["entities"]
    ]


@cache
def _card() -> DetectedAlert:
    actions = _actions()
    matcher = Matcher(MatchIndex.build(seed_universe()))
    best = best_by_symbol(m for action in actions for m in matcher.match(action) if m.confirmed)
    securities = {symbol: matcher.index.securities[symbol] for symbol in best}
    quotes = {
        "002415.SZ": SimpleNamespace(
            price=31.2, at=FILED_AT, reference_price=34.63, move=-0.099, extended_hours=False, halted=False
        ),
        "AMBA": SimpleNamespace(
            price=56.12, at=FILED_AT, reference_price=58.52, move=-0.041, extended_hours=True, halted=False
        ),
    }
    facts = EventFacts(
        document_number="2019-22210",
        title="Addition of Certain Entities to the Entity List",
        source="pi",
        agencies=("industry-and-security-bureau",),
        action="Final rule.",
        filed_at=FILED_AT,
        filing_type="special",
        pi_seen_at=FILED_AT,
        publication_date=None,
        effective_on=None,
        first_seen_at=FILED_AT,
        html_url=None,
        public_inspection_pdf_url=None,
        parse_status=ParseStatus.TEXT_FALLBACK,
        parse_error="XML: not published yet",
    )
    card = detected_card(
        event_id=7,
        announced_at=FILED_AT,
        announced_source=AnnouncementSource.PI_FILED_AT,
        facts=facts,
        actions=actions,
        best=best,
        securities=securities,
        quotes=quotes,
        earlier=(),
    )
    assert card is not None
    return card


def test_the_2019_card_leads_with_the_rule_and_its_securities_by_group() -> None:
    card = _card()
    assert {s.symbol for s in card.securities if s.relation is Relation.DIRECT} >= DIRECT
    amba = next(s for s in card.securities if s.symbol == "AMBA")
    assert amba.relation is Relation.SUPPLIER
    message = blocks.render(card)
    assert blocks.validate_blocks(message.blocks) == []
    n = len(card.securities)
    assert (
        message.blocks[0]["text"]["text"]
        == f"Addition of Certain Entities to the Entity List: {n} listed securities hit"
    )
    body = json.dumps(message.blocks, ensure_ascii=False)
    direct, suppliers = body.index("*Direct ("), body.index("*Suppliers (")
    assert direct < body.index("`002415.SZ`") < suppliers < body.index("`AMBA`")
    assert "*`002415.SZ`* XSHE · Hangzhou Hikvision Digital Technology Co., Ltd. · direct" in body
    assert "via *Hangzhou Hikvision Digital Technology Co., Ltd.*" in body
    assert "*`AMBA`* XNAS · Ambarella, Inc. · supplier" in body
    assert "revenue share undisclosed" in body  # why AMBA: the exposure seed gives no share
    assert "Last ¥31.20" in body
    assert "*-9.9%* since the announcement" in body
    assert "Last price unknown" in body  # securities without a quote say so
    assert body.index("`AMBA`") < body.index("*28 entities (28 added), full list in the thread*")
    assert "Aksu District Public Security Bureau" not in body  # the list is in the thread reply
    assert "could not be extracted" not in body + message.text
    assert message.text.startswith(f"Addition of Certain Entities to the Entity List: {n} listed securities hit. ")
    assert "002415.SZ (direct, -9.9%)" in message.text


def test_the_2019_entity_list_goes_to_the_first_thread_reply() -> None:
    reply = entity_reply(_card())
    assert isinstance(reply, EntityListReply)
    assert reply.dedup_key == "event:7:g:all:entities"
    message = blocks.render(reply)
    assert blocks.validate_blocks(message.blocks) == []
    body = json.dumps(message.blocks, ensure_ascii=False)
    assert "*Entity List rule 2019-22210: 28 entities (28 added)*" in body
    assert "*28 added*" in body
    assert "• Aksu District Public Security Bureau (CN), a.k.a. Aksu Prefecture Public Security Bureau" in body
    assert body.count("• ") == 28
    out = _console(reply)
    assert "28 added:" in out
    assert "Aksu District Public Security Bureau (CN)" in out


def _console(alert: DetectedAlert | EntityListReply) -> str:
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    Console(file=buffer, width=200, color_system=None).print(console.render(alert))
    return buffer.getvalue()


def test_aliases_are_shortened_and_actions_grouped() -> None:
    entities = (
        EntityLine(name="A Co.", country="CN", aliases=("A1", "A2", "A3", "A4")),
        EntityLine(name="B Co.", action=ActionKind.REVISE),
        EntityLine(name="C Co.", action=ActionKind.REMOVE),
    )
    assert t.entity_line(entities[0]) == "A Co. (CN), a.k.a. A1; A2; +2 more"
    assert t.action_counts(entities) == "1 added, 1 revised, 1 removed"
    reply = EntityListReply(event_id=1, document_number="X", title="T", entities=entities)
    body = json.dumps(blocks.render(reply).blocks)
    assert body.index("*1 added*") < body.index("*1 revised*") < body.index("*1 removed*")


def test_a_supplier_line_says_its_revenue_share_source_and_year() -> None:
    line = MatchedSecurity(
        symbol="AMBA",
        issuer="Ambarella, Inc.",
        exchange_mic="XNAS",
        relation=Relation.SUPPLIER,
        score=0.9,
        reason="Ambarella, Inc. (AMBA) supplies Hikvision",
        revenue_share=0.12,
        share_source="10-K",
        share_year=2019,
    )
    assert t.why(line) == "Ambarella, Inc. (AMBA) supplies Hikvision (12% of revenue; source: 10-K, 2019)"


def test_the_notification_never_says_zero_beside_securities_or_failure_beside_entities() -> None:
    card = _card().model_copy(update={"parse_status": ParseStatus.FAILED, "parse_error": "XML: not published"})
    text = t.fallback_text(card)
    assert "could not be extracted" not in text
    assert " 0 listed" not in text
    empty = card.model_copy(update={"entities": (), "securities": ()})
    assert "could not be extracted" in t.fallback_text(empty)
    assert "0 listed" not in t.fallback_text(empty)


_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300)


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(_text.filter(bool), max_size=60),
    aliases=st.lists(_text, max_size=6),
    n_securities=st.integers(min_value=0, max_value=60),
    reason=_text,
    source=st.one_of(st.none(), _text),
    share=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
)
def test_any_card_and_its_reply_render_within_slacks_limits(
    names: list[str], aliases: list[str], n_securities: int, reason: str, source: str | None, share: float | None
) -> None:
    card = _card()
    securities = tuple(
        MatchedSecurity(
            symbol=f"{i:06d}.SZ",
            issuer=reason[:80],
            exchange_mic="XSHE",
            relation=list(Relation)[i % len(Relation)],
            score=0.9,
            reason=reason,
            entity_name=reason[::-1],
            revenue_share=share,
            share_source=source,
            share_year=2019 if source else None,
        )
        for i in range(n_securities)
    )
    entities = tuple(
        EntityLine(name=name, aliases=tuple(aliases), action=list(ActionKind)[i % 3]) for i, name in enumerate(names)
    )
    card = card.model_copy(update={"title": reason or "T", "entities": entities, "securities": securities})
    for alert in (
        card,
        EntityListReply(event_id=1, document_number="X", title="T", entities=entities, securities=securities),
    ):
        message = blocks.render(alert)
        assert blocks.validate_blocks(message.blocks) == []
        assert _block_problem({"text": message.text, "blocks": message.blocks}) is None
        assert 0 < len(message.text) <= blocks.MAX_FALLBACK_TEXT
    body = json.dumps(blocks.render(card).blocks, ensure_ascii=False)
    if n_securities > CARD_SECURITIES:
        assert f"…and {n_securities - CARD_SECURITIES} more securities in the thread" in body
    assert 'more securities"' not in body or n_securities > CARD_SECURITIES  # the card itself never cuts
