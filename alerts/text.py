"""Wording shared by every renderer, so Slack, the console and the webhook say the same thing the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.clock import NEW_YORK
from monitor.models import ActionKind, AlertStage, Relation
from monitor.outbox import (
    CARD_SECURITIES,
    AnyAlert,
    DetectedAlert,
    EntityLine,
    EntityListReply,
    FollowUpAlert,
    Headline,
    MatchedSecurity,
    OperatorAlert,
    ReconcileAlert,
    StudyLine,
)

MISSING = "n/a"

STAGE_LABELS: dict[AlertStage, str] = {
    AlertStage.DETECTED: "Detected",
    AlertStage.DAY0: "Day 0 close",
    AlertStage.DAY1: "Day +1 close",
    AlertStage.DAY5: "Day +5 close",
    AlertStage.WINDOW_CLOSED: "Event window closed",
    AlertStage.ENTITIES: "Entities",
    AlertStage.RECONCILED: "Published",
    AlertStage.OPERATOR: "Monitor",
}

_CURRENCY_SIGNS = {"USD": "$", "CNY": "¥", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥", "TWD": "NT$"}

# Direct hits first: they move most and are what a trader looks for first.
_RELATION_ORDER = {relation: rank for rank, relation in enumerate(Relation)}

# The card's groups, in the order a trader reads them. A relation not named here (a new one) gets a group of its
# own after these, labelled from its value; a name spotted in the rule's text that no parsed entity explains is
# the weakest evidence and comes last.
_GROUPS: dict[str, tuple[int, str]] = {
    "direct": (0, "Direct"),
    "parent": (1, "Parent/subsidiary"),
    "subsidiary": (1, "Parent/subsidiary"),
    "supplier": (2, "Suppliers"),
    "customer": (3, "Customers"),
    "competitor": (4, "Competitors"),
}
_NAMED_IN_TEXT = (99, "Named in the text")
_ACTION_WORDS = {ActionKind.ADD: "added", ActionKind.REVISE: "revised", ActionKind.REMOVE: "removed"}
SHOWN_ALIASES = 2  # aliases an entity line shows before "+N more"
TOP_TICKERS = 5  # tickers the notification text names


def escape_mrkdwn(value: str, limit: int | None = None) -> str:
    """``value`` with the three characters Slack's mrkdwn treats as control characters escaped (&, <, >).

    Feed text (entity names, titles, reasons) goes into mrkdwn and the notification text, where an unescaped ``<``
    starts a link or a mention. With ``limit``, the text is clipped before escaping so the escaped result fits
    (an escape is never cut in half).
    """
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if limit is None or len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 1  # the "…" marker
    for char in value:
        piece = escape_mrkdwn(char) if char in "&<>" else char
        if used + len(piece) > limit:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + "…" if limit > 0 else ""


def relation_group(relation: Relation) -> tuple[int, str]:
    """(rank, label) of the card group a relation belongs to."""
    value = relation.value
    if value in _GROUPS:
        return _GROUPS[value]
    if any(word in value for word in ("text", "named", "mention", "spot")):
        return _NAMED_IN_TEXT
    return 50, value.replace("_", " ").capitalize()


def card_split(securities: Iterable[MatchedSecurity]) -> tuple[list[MatchedSecurity], list[MatchedSecurity]]:
    """(shown on the card, left for its thread reply), ranked: the card lists at most ``CARD_SECURITIES``."""
    ranked = sorted_securities(securities)
    return ranked[:CARD_SECURITIES], ranked[CARD_SECURITIES:]


def grouped(securities: Iterable[MatchedSecurity]) -> list[tuple[str, list[MatchedSecurity]]]:
    """The securities in card groups, ranked, each group with its label."""
    groups: dict[str, list[MatchedSecurity]] = {}
    for security in sorted_securities(securities):
        groups.setdefault(relation_group(security.relation)[1], []).append(security)
    return list(groups.items())


def why(security: MatchedSecurity, limit: int = 220) -> str:
    """One line on why a security is hit: the match's reason, plus a revenue share's source and year if known."""
    text = " ".join(security.reason.split())
    extra: list[str] = []
    if security.revenue_share is not None and "% of revenue" not in text:
        extra.append(f"{security.revenue_share:.0%} of revenue")
    if security.share_source or security.share_year:
        source = clip(" ".join((security.share_source or "").split()), 90)
        year = str(security.share_year) if security.share_year else ""
        extra.append("source: " + ", ".join(part for part in (source, year) if part))
    extra_text = "; ".join(extra)
    if not extra_text:
        return clip(text, limit)
    if not text:
        return clip(extra_text, limit)
    return clip(clip(text, max(40, limit - len(extra_text) - 3)) + f" ({extra_text})", limit)


def action_counts(entities: Iterable[EntityLine]) -> str:
    """``26 added, 1 revised, 1 removed``."""
    counts = {kind: 0 for kind in ActionKind}
    for entity in entities:
        counts[entity.action] += 1
    return ", ".join(f"{n} {_ACTION_WORDS[kind]}" for kind, n in counts.items() if n)


def entity_line(entity: EntityLine, *, aliases: int = SHOWN_ALIASES) -> str:
    """``Name (China), a.k.a. A; B; +3 more``: the aliases shortened, each clipped."""
    text = " ".join(entity.name.split()) + (f" ({entity.country})" if entity.country else "")
    if entity.aliases:
        shown = [clip(" ".join(alias.split()), 60) for alias in entity.aliases[:aliases]]
        more = len(entity.aliases) - len(shown)
        text += ", a.k.a. " + "; ".join(shown) + (f"; +{more} more" if more else "")
    return text


def entities_summary(alert: DetectedAlert, where: str = "in the thread") -> str | None:
    """``28 entities (28 added), full list in the thread``, or None when the card names none."""
    n = len(alert.entities)
    if not n:
        return None
    return f"{n} entit{'y' if n == 1 else 'ies'} ({action_counts(alert.entities)}), full list {where}"


def securities_count(alert: DetectedAlert) -> str:
    """How many listed securities the rule touches, never "0" while entities are still unknown."""
    n = len(alert.securities)
    if n:
        return f"{n} listed securit{'y' if n == 1 else 'ies'} hit"
    if not alert.entities and alert.parse_status.value in ("failed", "pending"):
        return "listed securities not known yet"
    return "no listed securities hit"


def clip(text: str, limit: int, *, marker: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))].rstrip() + marker


def pct(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{value * 100:+.{digits}f}%"


def number(value: float | None, digits: int = 2) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def price(value: float | None, currency: str | None) -> str:
    if value is None:
        return MISSING
    sign = _CURRENCY_SIGNS.get((currency or "").upper())
    return f"{sign}{value:,.2f}" if sign else f"{value:,.2f} {currency or ''}".rstrip()


def when(moment: datetime | None) -> str:
    """``2019-10-07 17:00 ET (21:00 UTC)``: traders think in New York time, the data is in UTC."""
    if moment is None:
        return MISSING
    eastern = moment.astimezone(NEW_YORK)
    return f"{eastern:%Y-%m-%d %H:%M} ET ({moment.astimezone(UTC):%H:%M} UTC)"


def window(days: tuple[int, int]) -> str:
    first, last = days
    return f"[{first:+d},{last:+d}]".replace("+0", "0")


def detected_facts(alert: DetectedAlert) -> list[str]:
    """The card's fact line: action, filing or announcement time, agency, publication, effective date, number."""
    facts = [alert.action or "Rule"]
    if alert.filed_at is not None:
        filing = f" ({alert.filing_type} filing)" if alert.filing_type else ""
        facts.append(f"filed for public inspection {when(alert.filed_at)}{filing}")
    else:
        facts.append(f"announced {when(alert.announced_at)} ({alert.announced_source.value.replace('_', ' ')})")
    if alert.filed_by:
        facts.append(f"by {', '.join(alert.filed_by)}")
    if alert.publication_date:
        facts.append(f"published {alert.publication_date.isoformat()}")
    if alert.effective_on:
        facts.append(f"effective {alert.effective_on.isoformat()}")
    facts.append(f"FR Doc {alert.document_number}")
    return facts


def extraction_note(alert: DetectedAlert) -> tuple[bool, str] | None:
    """(is_warning, text) about how the entities were read, or None when the rule's XML was parsed.

    A rule whose text is not out yet and a rule that could not be parsed say so; a rule read from its
    public-inspection text says that too, since the published XML may still add entries.
    """
    status = alert.parse_status.value
    if status == "failed" and alert.entities:  # entities were read after all: never "could not be extracted"
        return False, "Entities read from the rule's text; the published XML may refine them."
    if status == "failed":
        return (
            True,
            f"Entities could not be extracted ({alert.parse_error or 'unknown error'}); read the rule via the links.",
        )
    if status == "pending":
        return True, "Entities not extracted yet (the rule's text is not available yet); an update follows when it is."
    if status == "text_fallback":
        return False, "Entities read from the rule's text; the published XML may refine them."
    return None


def sorted_securities(securities: Iterable[MatchedSecurity]) -> list[MatchedSecurity]:
    """Card groups in order, then relation, confirmed before review, score, size of the move, symbol."""
    return sorted(
        securities,
        key=lambda s: (
            relation_group(s.relation)[0],
            _RELATION_ORDER[s.relation],
            not s.confirmed,
            -s.score,
            -abs(s.move or 0.0),
            s.symbol,
        ),
    )


def sorted_lines(lines: Iterable[StudyLine]) -> list[StudyLine]:
    return sorted(lines, key=lambda s: (_RELATION_ORDER[s.relation], -abs(s.car or 0.0), s.symbol))


def move_text(security: MatchedSecurity) -> str:
    """``¥31.20 at 2019-10-08 15:00 ET (19:00 UTC), -9.9% since the announcement (extended hours)``."""
    if security.last_price is None:
        return "last price unknown"
    text = price(security.last_price, security.currency)
    if security.last_price_at is not None:
        text += f" at {when(security.last_price_at)}"
    if security.move is not None:
        text += f", {pct(security.move)} since the announcement"
    if security.extended_hours:
        text += " (extended hours)"
    if security.halted:
        text += " (halted: no trading in the latest session)"
    return text


def last_text(security: MatchedSecurity) -> str:
    """``Last ¥31.20 at …, -9.9% since the announcement``, or ``Last price unknown`` when no quote came."""
    return "Last price unknown" if security.last_price is None else f"Last {move_text(security)}"


def security_line(security: MatchedSecurity) -> str:
    """The plain-text line of a security: ticker, exchange, the entity that links it, why, last price."""
    review = "" if security.confirmed else ", to review"
    via = f" via {security.entity_name}" if security.entity_name else ""
    return (
        f"{security.symbol} ({security.exchange_mic}) {security.issuer}: {security.relation.value}{via}, "
        f"score {security.score:.2f}{review}. {why(security)}. {last_text(security)}"
    )


def ticker_text(security: MatchedSecurity) -> str:
    """``002415.SZ (direct, -9.9%)``: a ticker as the notification names it."""
    move = f", {pct(security.move)}" if security.move is not None else ""
    return f"{security.symbol} ({security.relation.value}{move})"


def count_text(n: int | None, matched: int | None) -> str:
    """``n=4 complete of 5 matched``: how many securities a pooled number holds, out of how many it could."""
    return f"n={n}" if matched is None else f"n={n} complete of {matched} matched"


def headline_text(headline: Headline) -> str:
    counted = count_text(headline.n, headline.n_matched)
    parts = [f"{headline.group} ({counted}): CAAR{window(headline.window)} {pct(headline.caar, 2)}"]
    for test in headline.tests:
        p_value = "" if test.p_value is None else f" (p {test.p_value:.3f})"
        parts.append(f"{test.name} {number(test.statistic)}{p_value}")
    return " · ".join(parts)


def title(alert: AnyAlert) -> str:
    """One line naming the alert, for headers and panel titles."""
    if isinstance(alert, OperatorAlert):
        return f"Monitor: {alert.summary}"
    if isinstance(alert, ReconcileAlert):
        from alerts import reconcile  # it renders with this module's helpers

        return reconcile.title(alert)
    if isinstance(alert, DetectedAlert):
        count = securities_count(alert)
        rule = " ".join(alert.title.split()) or f"{alert.list_name} rule {alert.document_number}"
        return f"{clip(rule, 148 - len(count))}: {count}"
    if isinstance(alert, EntityListReply):
        n = len(alert.entities)
        what = f"{n} entit{'y' if n == 1 else 'ies'} ({action_counts(alert.entities)})" if n else "More securities"
        return f"{alert.list_name} rule {alert.document_number}: {what}"
    lead = alert.headlines[0] if alert.headlines else None
    summary = f": CAAR{window(lead.window)} {pct(lead.caar)} (n={lead.n})" if lead else ""
    where = f" · {alert.exchange_name or alert.exchange}" if alert.exchange else ""
    return f"{STAGE_LABELS[alert.stage]}{where}{summary}"


def close_text(alert: FollowUpAlert) -> str:
    """``New York close 16:00 EDT on 2019-10-08 · window [0,+1] · n 5 complete of 5 matched``."""
    parts = []
    if alert.exchange:
        moment = alert.closed_at
        if moment is not None and alert.time_zone:
            moment = moment.astimezone(ZoneInfo(alert.time_zone))
        at = f" {moment:%H:%M %Z}".rstrip() if moment is not None else ""
        on = f" on {alert.session.isoformat()}" if alert.session else ""
        parts.append(f"{alert.exchange_name or alert.exchange} ({alert.exchange}) close{at}{on}")
    parts.append(f"window {window(alert.car_window)}")
    if alert.n_matched is not None:
        parts.append(count_text(alert.n_complete, alert.n_matched).replace("=", " "))
    return " · ".join(parts)


def fallback_text(alert: AnyAlert, limit: int = 3000) -> str:
    """The plain-text version: Slack's notification and screen-reader text, and the webhook's ``text``."""
    if isinstance(alert, OperatorAlert):
        return clip(f"{title(alert)}. {alert.detail or ''}".strip(), limit)
    if isinstance(alert, ReconcileAlert):
        from alerts import reconcile  # it renders with this module's helpers

        return reconcile.text(alert, limit)
    if isinstance(alert, DetectedAlert):
        return clip(_detected_text(alert), limit)
    if isinstance(alert, EntityListReply):
        names = [" ".join(e.name.split()) for e in alert.entities[:10]]
        more = f" and {len(alert.entities) - len(names)} more" if len(alert.entities) > len(names) else ""
        text = f"{title(alert)}: {'; '.join(names)}{more}." if names else f"{title(alert)}."
        rest = card_split(alert.securities)[1]
        if rest:
            text += f" More securities: {', '.join(ticker_text(s) for s in rest)}."
        return clip(text, limit)
    lines = ", ".join(
        f"{s.symbol} CAR {pct(s.car)}" + (f" (t {number(s.car_t)})" if s.car_t is not None else "")
        for s in sorted_lines(alert.securities)
    )
    head = f"{title(alert)}. {close_text(alert)}. {alert.title} ({alert.document_number})."
    return clip(f"{head} {lines}".rstrip(". ") + ".", limit)


def study_note(line: StudyLine) -> str:
    if line.note:
        return line.note
    if line.halted:
        return "halted"
    return "" if line.status.value in ("partial", "complete") else line.status.value.replace("_", " ")


def follow_up_has_big_move(alert: FollowUpAlert, threshold: float | None) -> bool:
    if threshold is None:
        return False
    return any(line.car is not None and abs(line.car) >= threshold for line in alert.securities)


def _detected_text(alert: DetectedAlert) -> str:
    """The card as a phone shows it: the rule and its count, the top tickers, when and by whom, the entity count."""
    ranked = sorted_securities(alert.securities)
    text = f"{title(alert)}."
    if ranked:
        top = ", ".join(ticker_text(s) for s in ranked[:TOP_TICKERS])
        more = f" and {len(ranked) - TOP_TICKERS} more" if len(ranked) > TOP_TICKERS else ""
        text += f" {top}{more}."
    filed = f"filed {when(alert.filed_at)}" if alert.filed_at else f"announced {when(alert.announced_at)}"
    by = f" by {', '.join(alert.filed_by)}" if alert.filed_by else ""
    text += f" FR Doc {alert.document_number}, {filed}{by}."
    summary = entities_summary(alert)
    if summary:
        text += f" {summary[0].upper()}{summary[1:]}."
    note = extraction_note(alert)
    if note is not None and note[0]:
        text += f" {note[1]}"
    return text
