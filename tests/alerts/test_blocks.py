"""Block Kit cards: the content a trader needs, within Slack's limits however large the rule."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import blocks
from alerts.blocks import MAX_BLOCKS, MAX_HEADER_TEXT, MAX_SECTION_TEXT, pack, render, validate_blocks
from monitor.models import AlertStage, ParseStatus, Relation
from monitor.outbox import EntityLine, MatchedSecurity, OperatorAlert
from monitor.pipeline.detected import entity_reply
from tests.fakes.alert_samples import FILED_AT, FR_URL, PI_URL, detected, follow_up
from tests.fakes.slack_server import _block_problem


def _texts(message: blocks.SlackMessage) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def test_detected_card_says_what_was_filed_when_by_whom_and_what_it_hits() -> None:
    message = render(detected(4))
    assert validate_blocks(message.blocks) == []
    assert message.blocks[0]["type"] == "header"
    assert (
        message.blocks[0]["text"]["text"] == "Addition of Certain Entities to the Entity List: 8 listed securities hit"
    )
    body = _texts(message)
    for needle in (
        "Addition of Certain Entities to the Entity List",
        "2019-10-07 16:15 ET (20:15 UTC)",  # filed, in New York time and UTC
        "special filing",
        "Industry and Security Bureau",
        "*Direct (4)*",
        "*Suppliers (4)*",
        "`002415.SZ`",
        "XSHE",
        "via *Hangzhou Hikvision Digital Technology Co., Ltd.*",  # the entity that links it
        "issuer alias 'Hikvision'",
        "*28 entities (28 added), full list in the thread*",
        "¥31.20",
        "*-9.9%* since the announcement",
        "(extended hours)",  # the US suppliers traded after hours
        "_to review_",  # suppliers are in the review band
        f"<{FR_URL}|Federal Register>",
        f"<{PI_URL}|Public inspection PDF>",
    ):
        assert needle in body, needle
    assert body.index("`002415.SZ`") < body.index("`AMBA`")  # direct hits before suppliers
    assert body.index("`AMBA`") < body.index("28 entities")  # securities lead, entities are only counted
    assert "(China)" not in body  # the entity list is in the thread reply, not above the tickers
    assert "002415.SZ (direct, -9.9%)" in message.text
    assert "could not be extracted" not in message.text


@pytest.mark.parametrize(
    ("status", "expected", "absent"),
    [
        (ParseStatus.TEXT_FALLBACK, "Entities read from the rule's text", "could not be extracted"),
        (ParseStatus.PARSED, None, "could not be extracted"),
        (ParseStatus.PENDING, "Entities not extracted yet", "could not be extracted"),
    ],
)
def test_a_leftover_parse_error_does_not_contradict_extracted_entities(
    status: ParseStatus, expected: str | None, absent: str
) -> None:
    """Entities read from the public-inspection text keep the XML's "not published yet" as parse_error; the card
    must not claim extraction failed."""
    alert = detected(4).model_copy(update={"parse_status": status, "parse_error": "XML: not published yet"})
    body = _texts(render(alert))
    assert absent not in body
    if expected is not None:
        assert expected in body


def test_a_rule_that_failed_to_parse_still_has_title_links_and_the_reason() -> None:
    alert = detected(4, n_entities=0, n_securities=0).model_copy(
        update={"parse_status": ParseStatus.FAILED, "parse_error": "no GPOTABLE under REGTEXT 744"}
    )
    message = render(alert)
    assert validate_blocks(message.blocks) == []
    body = _texts(message)
    assert "Entities could not be extracted" in body
    assert "no GPOTABLE under REGTEXT 744" in body
    assert FR_URL in body
    assert message.blocks[0]["text"]["text"] == (
        "Addition of Certain Entities to the Entity List: listed securities not known yet"
    )
    assert "0 listed" not in message.text


def test_huge_rules_are_cut_gracefully_within_every_limit() -> None:
    long_reason = "matched through alias " + "x" * 4000
    securities = tuple(
        MatchedSecurity(
            symbol=f"{600000 + i}.SS",
            issuer=f"Issuer {i} " + "Holdings " * 30,
            exchange_mic="XSHG",
            relation=Relation.SUPPLIER,
            score=0.9,
            reason=long_reason,
        )
        for i in range(150)
    )
    entities = tuple(EntityLine(name=f"Research Institute No. {i} " + "of " * 40, country="China") for i in range(400))
    alert = detected(4, title="T" * 5000).model_copy(update={"securities": securities, "entities": entities})
    message = render(alert)
    assert validate_blocks(message.blocks) == []
    assert _block_problem({"text": message.text, "blocks": message.blocks}) is None
    assert len(message.blocks) <= MAX_BLOCKS
    assert len(message.blocks[0]["text"]["text"]) <= MAX_HEADER_TEXT
    body = _texts(message)
    assert "…and 135 more securities in the thread" in body
    assert message.blocks[0]["text"]["text"].endswith(": 150 listed securities hit")
    assert "*400 entities (400 added), full list in the thread*" in body
    assert len(message.text) <= blocks.MAX_FALLBACK_TEXT
    reply = render(entity_reply(alert))  # type: ignore[arg-type]
    assert validate_blocks(reply.blocks) == []
    assert _block_problem({"text": reply.text, "blocks": reply.blocks}) is None
    reply_body = _texts(reply)
    assert "more entities (see the rule)" in reply_body
    assert "*More securities (135)*" in reply_body


def test_a_halted_security_says_its_price_is_stale() -> None:
    halted = detected(4).securities[0].model_copy(update={"halted": True})
    body = _texts(render(detected(4).model_copy(update={"securities": (halted,)})))
    assert "(halted: no trading in the latest session)" in body


def test_mrkdwn_control_characters_are_escaped() -> None:
    alert = detected(4).model_copy(
        update={"entities": (EntityLine(name="AT&T <Shenzhen> Branch", country="China"),), "title": "A <b> & c"}
    )
    message = render(alert)
    body = _texts(message)
    assert "A &lt;b&gt; &amp; c" in body
    assert "<b>" not in message.text  # the notification is mrkdwn too
    assert "A &lt;b&gt; &amp; c" in message.text
    reply = _texts(render(entity_reply(alert)))  # type: ignore[arg-type]
    assert "AT&amp;T &lt;Shenzhen&gt; Branch" in reply


def test_follow_up_reply_has_headline_statistics_and_a_table() -> None:
    message = render(follow_up(4, AlertStage.DAY1))
    assert validate_blocks(message.blocks) == []
    body = _texts(message)
    assert message.blocks[0]["text"]["text"] == "Day +1 close: CAAR[0,+1] -3.1% (n=8)"
    assert "BMP t -3.01 (p 0.003)" in body
    assert "CAR[0,+1]" in body
    assert "002415.SZ" in body
    assert "```" in body
    halted = render(follow_up(4, AlertStage.DAY0))
    assert "halted" in _texts(halted)


def test_many_follow_up_rows_fit() -> None:
    message = render(follow_up(4, AlertStage.WINDOW_CLOSED, n_securities=400))
    assert validate_blocks(message.blocks) == []
    assert "more securities" in _texts(message)


def test_root_status_line_and_operator_card() -> None:
    message = render(detected(4), status="Latest: Day +1 close <x>")
    assert validate_blocks(message.blocks) == []
    assert "Latest: Day +1 close &lt;x&gt;" in _texts(message)
    operator = OperatorAlert(
        key="dead:slack:1",
        summary="alerts to slack are failing",
        detail="Alert event:1:g:all:detected could not be delivered: channel_not_found",
        failed_delivery_id=12,
        failed_dedup_key="event:1:g:all:detected",
        raised_at=FILED_AT,
    )
    card = render(operator)
    assert validate_blocks(card.blocks) == []
    assert "monitor alerts retry 12" in _texts(card)


def test_validator_catches_each_limit() -> None:
    assert validate_blocks([blocks.section("x")] * (MAX_BLOCKS + 1))
    assert validate_blocks([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
    assert validate_blocks([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}])
    assert validate_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}])
    assert validate_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}])
    assert validate_blocks([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}])
    assert validate_blocks([{"type": "context", "elements": []}])
    assert validate_blocks([{"type": "image"}])
    assert validate_blocks([blocks.section("s" * 2900)] * 5)  # the total budget
    assert validate_blocks([blocks.header("ok"), blocks.DIVIDER, blocks.section("ok"), blocks.context("ok")]) == []


@settings(max_examples=300, deadline=None)
@given(
    paragraphs=st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=5000), max_size=60),
    limit=st.integers(min_value=200, max_value=3000),
    max_blocks=st.integers(min_value=0, max_value=10),
    max_total=st.integers(min_value=300, max_value=15000),
    code=st.booleans(),
)
def test_pack_respects_its_limits_and_accounts_for_every_item(
    paragraphs: list[str], limit: int, max_blocks: int, max_total: int, code: bool
) -> None:
    texts = pack(paragraphs, limit=limit, max_blocks=max_blocks, max_total=max_total, noun="items", code=code)
    assert len(texts) <= max(1, max_blocks)
    assert all(len(text) <= limit for text in texts)
    assert sum(len(text) for text in texts) <= max_total
    lines = [line for text in texts for line in text.split("\n") if line != "```"]
    notes = [line for line in lines if line.startswith("…and ") and line.endswith(" more items")]
    assert len(notes) <= 1
    if notes:
        assert lines[-1] == notes[0]  # the cut is said last
    cut = int(notes[0].split()[1]) if notes else 0
    assert len(lines) - len(notes) + cut == len(paragraphs)  # every item is shown or counted
    shown = lines[: len(lines) - len(notes)]
    assert [line.rstrip("…") for line in shown] == [
        p[: len(line.rstrip("…"))] for p, line in zip(paragraphs, shown, strict=False)
    ]


_names = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=400)


@settings(max_examples=60, deadline=None)
@given(
    entity_names=st.lists(_names, max_size=80),
    symbols=st.lists(st.from_regex(r"[A-Z0-9]{1,6}(\.(SZ|SS|HK))?", fullmatch=True), max_size=80),
    reason=_names,
    title=_names,
    moves=st.lists(st.one_of(st.none(), st.floats(min_value=-0.99, max_value=5)), min_size=1, max_size=5),
)
def test_any_detected_alert_renders_to_a_message_slack_accepts(
    entity_names: list[str], symbols: list[str], reason: str, title: str, moves: list[float | None]
) -> None:
    securities = tuple(
        MatchedSecurity(
            symbol=symbol,
            issuer=reason[:50],
            exchange_mic="XNYS",
            relation=list(Relation)[i % len(Relation)],
            score=0.5,
            reason=reason,
            last_price=10.0,
            move=moves[i % len(moves)],
        )
        for i, symbol in enumerate(symbols)
    )
    alert = detected(1, title=title).model_copy(
        update={"entities": tuple(EntityLine(name=n) for n in entity_names), "securities": securities}
    )
    message = render(alert)
    assert validate_blocks(message.blocks) == []
    assert _block_problem({"text": message.text, "blocks": message.blocks}) is None
    assert 0 < len(message.text) <= blocks.MAX_FALLBACK_TEXT
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in message.blocks if b["type"] == "section")


def test_feed_text_cannot_mention_the_channel_or_smuggle_a_link() -> None:
    """Issue 16 item 5: ``<!channel>`` and ``<https://evil|click>`` in a title reach neither the text nor blocks."""
    alert = detected(4).model_copy(update={"title": "Rule <!channel> see <https://evil.example|click> & more"})
    message = render(alert)
    for text in (message.text, *_mrkdwn(message.blocks)):  # plain_text (the header) is never parsed
        assert "<!channel>" not in text
        assert "<https://evil" not in text
    assert "&lt;!channel&gt;" in message.text


def _mrkdwn(value: object) -> list[str]:
    """Every mrkdwn text in a block tree."""
    if isinstance(value, list):
        return [text for item in value for text in _mrkdwn(item)]
    if not isinstance(value, dict):
        return []
    own = [str(value["text"])] if value.get("type") == "mrkdwn" else []
    return own + [text for item in value.values() for text in _mrkdwn(item)]


def test_only_web_links_are_clickable() -> None:
    """Issue 16 item 5: a ``javascript:`` link from the feed stays plain text in Slack."""
    alert = detected(4).model_copy(
        update={"federal_register_url": "javascript:alert(1)", "public_inspection_pdf_url": "slack://open?team=T1"}
    )
    body = _texts(render(alert))
    assert "javascript:" not in body
    assert "slack://" not in body
    assert "Federal Register" in body
    assert blocks.link("https://www.federalregister.gov/d/1", "FR") == "<https://www.federalregister.gov/d/1|FR>"
