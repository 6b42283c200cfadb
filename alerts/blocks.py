"""Block Kit messages for Slack, built to fit Slack's limits by construction and checked before sending.

Slack refuses a whole message for one oversized field (``invalid_blocks``), so every text is clipped to its limit
and long lists (entities, securities) are packed into as few blocks as they need, with an "…and N more" line
when even that overflows. ``validate_blocks`` states the limits independently and runs on every message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alerts import text as t
from monitor.models import ActionKind
from monitor.outbox import (
    AnyAlert,
    DetectedAlert,
    EntityListReply,
    FollowUpAlert,
    MatchedSecurity,
    OperatorAlert,
    ReconcileAlert,
)
from monitor.safe_text import web_url

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
# Slack answers msg_blocks_too_long well below 50 x 3000 characters (reported near 13k); stay under that.
MAX_TOTAL_TEXT = 12_000
MAX_FALLBACK_TEXT = 3000

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the fallback: notifications, screen readers, clients without Block Kit
    blocks: list[Block]


def esc(value: str, limit: int | None = None) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters (``text.escape_mrkdwn``)."""
    return t.escape_mrkdwn(value, limit)


def link(url: str | None, label: str) -> str:
    """``<url|label>``; a URL that is not http(s) (``javascript:``, ``slack://``) is dropped, leaving the label."""
    url = web_url(url)
    if url is None:
        return esc(label)
    safe = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{safe}|{esc(label).replace('|', '/')}>"


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": t.clip(text, MAX_HEADER_TEXT), "emoji": True}}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": t.clip(text, MAX_SECTION_TEXT)}}


def context(*parts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": t.clip(p, MAX_CONTEXT_TEXT)} for p in parts if p][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements}


DIVIDER: Block = {"type": "divider"}


def pack(
    paragraphs: Iterable[str], *, limit: int, max_blocks: int, max_total: int, noun: str, code: bool = False
) -> list[str]:
    """Join paragraphs into at most ``max_blocks`` texts of at most ``limit`` characters, ``max_total`` in all.

    Whatever does not fit is summarised in a last "…and N more <noun>" line, so the reader knows it was cut.
    Room for that line is kept in every text, so adding it never breaks a limit.
    """
    items = list(paragraphs)
    fence = 8 if code else 0  # "```\n" ... "\n```"
    note_room = len(f"…and {len(items)} more {noun}") + 1
    room = limit - fence - note_room
    budget = max_total - note_room
    chunks: list[list[str]] = [[]]
    used, total, placed = 0, fence, 0
    for raw in items:
        item = t.clip(raw, room - 1)
        cost = len(item) + 1
        if chunks[-1] and used + cost > room:
            if len(chunks) >= max(1, max_blocks) or total + fence + cost > budget:
                break
            chunks.append([])
            used, total = 0, total + fence
        if total + cost > budget:
            break
        chunks[-1].append(item)
        used, total, placed = used + cost, total + cost, placed + 1
    if placed < len(items):
        chunks[-1].append(f"…and {len(items) - placed} more {noun}")
    return ["```\n" + "\n".join(c) + "\n```" if code else "\n".join(c) for c in chunks if c]


def render(alert: AnyAlert, *, status: str | None = None) -> SlackMessage:
    """The Slack message for ``alert``; ``status`` adds a "latest" line (used when a root message is updated)."""
    if isinstance(alert, DetectedAlert):
        blocks = _detected(alert, status)
    elif isinstance(alert, EntityListReply):
        blocks = _entity_reply(alert)
    elif isinstance(alert, FollowUpAlert):
        blocks = _follow_up(alert)
    elif isinstance(alert, ReconcileAlert):
        from alerts import reconcile  # it builds on this module's blocks

        blocks = reconcile.slack_blocks(alert)
    else:
        blocks = _operator(alert)
    text = esc(t.fallback_text(alert, 4 * MAX_FALLBACK_TEXT), MAX_FALLBACK_TEXT)  # Slack parses it as mrkdwn
    problems = validate_blocks(blocks)
    if problems:  # a bug in the builders must not cost the alert: send the plain text instead
        blocks = [section(text)]
    return SlackMessage(text=text, blocks=blocks)


def _detected(alert: DetectedAlert, status: str | None) -> list[Block]:
    """Header (the rule, how many securities), the facts, the securities by group, then the entity count.

    The full entity list and any securities past ``CARD_SECURITIES`` go to the card's thread reply.
    """
    blocks: list[Block] = [header(t.title(alert))]
    title = link(alert.federal_register_url, t.clip(alert.title, 300))
    blocks.append(section(f"*{title}*\n" + esc(" · ".join(t.detected_facts(alert)), 800)))
    note = t.extraction_note(alert)
    if note is not None:
        warning, text = note
        blocks.append(section((":warning: " if warning else ":information_source: ") + esc(text, 400)))
    tail: list[Block] = []
    shown, rest = t.card_split(alert.securities)
    if rest:
        tail.append(section(f"…and {len(rest)} more securities in the thread"))
    summary = t.entities_summary(alert)
    if summary is not None:
        tail.append(section(f"*{esc(summary)}*"))
    if status:
        tail.append(context(esc(status, MAX_CONTEXT_TEXT)))
    tail.append(context(*_links(alert)))
    if shown:
        lines: list[str] = []
        for label, members in t.grouped(shown):
            for number, security in enumerate(members):
                heading = f"*{esc(label, 60)} ({len(members)})*\n" if number == 0 else ""
                lines.append(heading + _security(security))
        blocks.append(DIVIDER)
        texts = pack(
            lines,
            limit=MAX_SECTION_TEXT,
            max_blocks=MAX_BLOCKS - len(blocks) - len(tail),
            max_total=MAX_TOTAL_TEXT - _total([*blocks, *tail]),
            noun="securities",
        )
        blocks.extend(section(x) for x in texts)
    blocks.extend(tail)
    return blocks


def _security(s: MatchedSecurity) -> str:
    """Ticker, exchange and issuer; the entity that links it and why; the last price. At most ~620 characters."""
    review = " · _to review_" if not s.confirmed else ""
    move = esc(t.clip(t.last_text(s), 200))
    if s.move is not None:
        move = move.replace(t.pct(s.move), f"*{t.pct(s.move)}*", 1)
    via = f"via *{esc(s.entity_name, 90)}*: " if s.entity_name else ""
    return (
        f"*`{esc(s.symbol, 30)}`* {esc(s.exchange_mic, 12)} · {esc(s.issuer, 60)} · {s.relation.value}{review}\n"
        f"{via}_{esc(t.why(s), 220)}_\n{move}"
    )


def _entity_reply(alert: EntityListReply) -> list[Block]:
    """The card's first reply: every entity by action (aliases shortened), then the securities the card cut."""
    blocks: list[Block] = [section(f"*{esc(t.title(alert), 300)}*")]
    tail = [context(*_links(alert))]
    rest = t.card_split(alert.securities)[1]
    rest_lines = [f"*More securities ({len(rest)})*\n" * (i == 0) + _security(s) for i, s in enumerate(rest)]
    entity_lines: list[str] = []
    for kind in ActionKind:
        members = [e for e in alert.entities if e.action is kind]
        for number, entity in enumerate(members):
            heading = f"*{t.action_counts(members).capitalize()}*\n" if number == 0 else ""
            entity_lines.append(heading + "• " + esc(t.entity_line(entity), 600))
    spare_blocks = MAX_BLOCKS - len(blocks) - len(tail)
    spare_text = MAX_TOTAL_TEXT - _total([*blocks, *tail])
    if entity_lines:
        texts = pack(
            entity_lines,
            limit=MAX_SECTION_TEXT,
            max_blocks=spare_blocks - (3 if rest_lines else 0),
            max_total=spare_text // 2 if rest_lines else spare_text,
            noun="entities (see the rule)",
        )
        blocks.extend(section(x) for x in texts)
        spare_blocks -= len(texts)
        spare_text -= sum(len(x) for x in texts)
    if rest_lines:
        texts = pack(
            rest_lines, limit=MAX_SECTION_TEXT, max_blocks=spare_blocks, max_total=spare_text, noun="securities"
        )
        blocks.extend(section(x) for x in texts)
    blocks.extend(tail)
    return blocks


def _links(alert: DetectedAlert | EntityListReply | FollowUpAlert) -> list[str]:
    parts = []
    if alert.federal_register_url:
        parts.append(link(alert.federal_register_url, "Federal Register"))
    if isinstance(alert, DetectedAlert) and alert.public_inspection_pdf_url:
        parts.append(link(alert.public_inspection_pdf_url, "Public inspection PDF"))
    parts.append(f"event {alert.event_id} · {esc(t.clip(alert.document_number, 100))}")
    return [" · ".join(parts)]


def _follow_up(alert: FollowUpAlert) -> list[Block]:
    blocks: list[Block] = [header(t.title(alert)), section(f"*{esc(t.clip(alert.title, 300))}*")]
    blocks.append(context(esc(t.close_text(alert))))
    for headline in alert.headlines[:5]:
        blocks.append(section(esc(t.clip(t.headline_text(headline), 1000))))
    tail = [context(*_links(alert))]
    if alert.securities:
        car = f"CAR{t.window(alert.car_window)}"
        head = f"{'symbol':<11} {'relation':<10} {'day 0':<10} {'AR':>8} {car:>11} {'t':>6}  note"
        rows = [head] + [
            f"{s.symbol:<11} {s.relation.value:<10} {s.day0.isoformat() if s.day0 else t.MISSING:<10} "
            f"{t.pct(s.ar, 2):>8} {t.pct(s.car, 2):>11} {t.number(s.car_t):>6}  {t.study_note(s)}"
            for s in t.sorted_lines(alert.securities)
        ]
        texts = pack(
            [esc(row) for row in rows],
            limit=MAX_SECTION_TEXT,
            max_blocks=MAX_BLOCKS - len(blocks) - len(tail),
            max_total=MAX_TOTAL_TEXT - _total([*blocks, *tail]),
            noun="securities",
            code=True,
        )
        blocks.extend(section(x) for x in texts)
    blocks.extend(tail)
    return blocks


def _operator(alert: OperatorAlert) -> list[Block]:
    blocks = [header(t.title(alert))]
    if alert.detail:
        blocks.append(section(esc(t.clip(alert.detail, 2000))))
    where = []
    if alert.failed_delivery_id is not None:
        where.append(f"delivery {alert.failed_delivery_id}: `monitor alerts retry {alert.failed_delivery_id}`")
    if alert.failed_dedup_key:
        where.append(f"alert {esc(alert.failed_dedup_key)}")
    where.append(f"raised {t.when(alert.raised_at)}")
    blocks.append(context(" · ".join(where)))
    return blocks


def _text_length(block: Block) -> int:
    total = len(block["text"]["text"]) if "text" in block else 0
    for item in [*block.get("fields", []), *block.get("elements", [])]:
        total += len(item.get("text", ""))
    return total


def _total(blocks: Iterable[Block]) -> int:
    return sum(_text_length(b) for b in blocks)


def validate_blocks(blocks: list[Block]) -> list[str]:
    """Everything in ``blocks`` that Slack would refuse; an empty list means the message is sendable."""
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks, more than {MAX_BLOCKS}")
    for number, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            body = block["text"]
            if body.get("type") != "plain_text":
                problems.append(f"block {number}: a header's text must be plain_text")
            if not 0 < len(body.get("text", "")) <= MAX_HEADER_TEXT:
                problems.append(f"block {number}: header text of {len(body.get('text', ''))} characters")
        elif kind == "section":
            body_text = block.get("text", {}).get("text", "")
            fields = block.get("fields", [])
            if not body_text and not fields:
                problems.append(f"block {number}: a section needs text or fields")
            if len(body_text) > MAX_SECTION_TEXT:
                problems.append(f"block {number}: section text of {len(body_text)} characters")
            if len(fields) > MAX_FIELDS or any(len(f.get("text", "")) > MAX_FIELD_TEXT for f in fields):
                problems.append(f"block {number}: too many or too long fields")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
                problems.append(f"block {number}: a context needs 1 to {MAX_CONTEXT_ELEMENTS} elements")
            if any(len(e.get("text", "")) > MAX_CONTEXT_TEXT for e in elements):
                problems.append(f"block {number}: context text too long")
        elif kind != "divider":
            problems.append(f"block {number}: unexpected block type {kind!r}")
    total = _total(blocks)
    if total > MAX_TOTAL_TEXT:
        problems.append(f"{total} characters of text in all blocks, more than {MAX_TOTAL_TEXT}")
    return problems
