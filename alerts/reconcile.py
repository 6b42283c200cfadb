"""The reconcile reply: what the published rule changed from the card sent at public-inspection time.

One short message in the card's thread. A trader who acted on the PI-time card wants to know first whether it
still holds: "the published text confirms the filing", or the securities added, removed or revised (they move
money), then the entities. The card itself is re-rendered from ``alert.card`` by the sink (chat.update).

Every renderer (Slack, console, webhook) uses ``title``, ``change_lines`` and ``text`` here, so they say the same.
"""

from __future__ import annotations

from alerts import blocks as b
from alerts import text as t
from monitor.outbox import EntityLine, MatchedSecurity, ReconcileAlert

MAX_LINES_PER_PART = 40  # per kind of change; the rest is counted


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def title(alert: ReconcileAlert) -> str:
    """One line: "Published: confirms the filing" or the counts of what changed."""
    if alert.confirmed:
        return "Published: the text confirms the filing"
    counts = (
        (len(alert.securities_added), "security", "securities", "added"),
        (len(alert.securities_removed), "security", "securities", "removed"),
        (len(alert.securities_revised), "security", "securities", "revised"),
        (len(alert.entities_added), "entity", "entities", "added"),
        (len(alert.entities_removed), "entity", "entities", "removed"),
        (len(alert.entities_revised), "entity", "entities", "revised"),
    )
    return "Published: " + ", ".join(f"{_plural(n, one, many)} {verb}" for n, one, many, verb in counts if n)


def _security(s: MatchedSecurity) -> str:
    via = f" via {s.entity_name}" if s.entity_name else ""
    review = ", to review" if not s.confirmed else ""
    return f"{s.symbol} {s.issuer} ({s.exchange_mic}, {s.relation.value}{review}){via}"


def _entity(e: EntityLine) -> str:
    return e.name + (f" ({e.country})" if e.country else "")


def _entity_change(before: EntityLine, after: EntityLine) -> str:
    changes: list[str] = []
    if before.action is not after.action:
        changes.append(f"action {before.action.value} → {after.action.value}")
    if (before.country or "") != (after.country or ""):
        changes.append(f"country {before.country or 'none'} → {after.country or 'none'}")
    gained = [a for a in after.aliases if a not in before.aliases]
    lost = [a for a in before.aliases if a not in after.aliases]
    if gained:
        changes.append("aliases added: " + "; ".join(gained))
    if lost:
        changes.append("aliases dropped: " + "; ".join(lost))
    return f"{after.name}: " + (", ".join(changes) or "entry revised")


def _security_change(before: MatchedSecurity, after: MatchedSecurity) -> str:
    was = f"{before.relation.value}{'' if before.confirmed else ' (to review)'}"
    now = f"{after.relation.value}{'' if after.confirmed else ' (to review)'}"
    via = f", via {after.entity_name}" if after.entity_name and after.entity_name != before.entity_name else ""
    return f"{after.symbol} {after.issuer}: {was} → {now}{via}"


def change_lines(alert: ReconcileAlert) -> list[tuple[str, list[str]]]:
    """(heading, lines) per kind of change, securities first; empty when the published text confirms the filing."""
    parts: list[tuple[str, list[str]]] = [
        ("Securities added", [_security(s) for s in alert.securities_added]),
        ("Securities no longer hit", [_security(s) for s in alert.securities_removed]),
        ("Securities revised", [_security_change(c.before, c.after) for c in alert.securities_revised]),
        ("Entities added", [_entity(e) for e in alert.entities_added]),
        ("Entities no longer named", [_entity(e) for e in alert.entities_removed]),
        ("Entities revised", [_entity_change(c.before, c.after) for c in alert.entities_revised]),
    ]
    return [(heading, lines) for heading, lines in parts if lines]


def summary(alert: ReconcileAlert) -> str:
    """The rule as published, and what the card shows now."""
    published = f"published {alert.publication_date.isoformat()}" if alert.publication_date else "published"
    card = alert.card
    return (
        f"{alert.title} ({alert.document_number}), {published}: "
        f"{_plural(len(card.entities), 'entity', 'entities')}, "
        f"{_plural(len(card.securities), 'listed security', 'listed securities')} hit. The card now shows the "
        "published rule."
    )


def text(alert: ReconcileAlert, limit: int = 3000) -> str:
    """The plain-text version (Slack's notification text, the webhook's ``text``)."""
    body = f"{title(alert)}. {summary(alert)}"
    for heading, lines in change_lines(alert):
        shown = lines[:5]
        more = f" and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
        body += f" {heading}: {'; '.join(shown)}{more}."
    return t.clip(body, limit)


def slack_blocks(alert: ReconcileAlert) -> list[b.Block]:
    """Block Kit for the thread reply, within Slack's limits by construction (``blocks.pack``)."""
    blocks: list[b.Block] = [b.header(title(alert)), b.section(b.esc(summary(alert)))]
    parts = change_lines(alert)
    room = (b.MAX_BLOCKS - 3) // max(1, len(parts))
    for heading, lines in parts:
        head = f"*{b.esc(heading)} ({len(lines)})*\n"
        texts = b.pack(
            [f"• {b.esc(line)}" for line in lines[:MAX_LINES_PER_PART]],
            limit=b.MAX_SECTION_TEXT - len(head),
            max_blocks=min(2, room),
            max_total=(b.MAX_TOTAL_TEXT - 1000) // max(1, len(parts)),
            noun="changes",
        )
        if len(lines) > MAX_LINES_PER_PART:
            texts[-1] += f"\n…and {len(lines) - MAX_LINES_PER_PART} more"
        texts[0] = head + texts[0]
        blocks.extend(b.section(x) for x in texts)
    links = [b.link(alert.federal_register_url, "Federal Register")] if alert.federal_register_url else []
    links.append(f"event {alert.event_id} · {b.esc(t.clip(alert.document_number, 100))}")
    blocks.append(b.context(" · ".join(links)))
    return blocks
