"""Wording shared by every renderer, so Slack, the console and the webhook say the same thing the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from monitor.clock import NEW_YORK
from monitor.models import AlertStage, Relation
from monitor.outbox import AnyAlert, DetectedAlert, FollowUpAlert, Headline, MatchedSecurity, OperatorAlert, StudyLine

MISSING = "n/a"

STAGE_LABELS: dict[AlertStage, str] = {
    AlertStage.DETECTED: "Detected",
    AlertStage.DAY0: "Day 0 close",
    AlertStage.DAY1: "Day +1 close",
    AlertStage.DAY5: "Day +5 close",
    AlertStage.WINDOW_CLOSED: "Event window closed",
    AlertStage.OPERATOR: "Monitor",
}

_CURRENCY_SIGNS = {"USD": "$", "CNY": "¥", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥", "TWD": "NT$"}

# Direct hits first: they move most and are what a trader looks for first.
_RELATION_ORDER = {relation: rank for rank, relation in enumerate(Relation)}


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
    return sorted(securities, key=lambda s: (_RELATION_ORDER[s.relation], -s.score, -abs(s.move or 0.0), s.symbol))


def sorted_lines(lines: Iterable[StudyLine]) -> list[StudyLine]:
    return sorted(lines, key=lambda s: (_RELATION_ORDER[s.relation], -abs(s.car or 0.0), s.symbol))


def move_text(security: MatchedSecurity) -> str:
    """``¥31.20 at 2019-10-08 15:00 ET (19:00 UTC), -9.9% since the announcement (extended hours)``."""
    if security.last_price is None:
        return "no trade since the announcement yet"
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


def security_line(security: MatchedSecurity) -> str:
    review = "" if security.confirmed else ", to review"
    return (
        f"{security.symbol} {security.issuer} ({security.exchange_mic}): {security.relation.value}, "
        f"score {security.score:.2f}{review}. {security.reason}. Last {move_text(security)}"
    )


def headline_text(headline: Headline) -> str:
    parts = [f"{headline.group} (n={headline.n}): CAAR{window(headline.window)} {pct(headline.caar, 2)}"]
    for test in headline.tests:
        p_value = "" if test.p_value is None else f" (p {test.p_value:.3f})"
        parts.append(f"{test.name} {number(test.statistic)}{p_value}")
    return " · ".join(parts)


def title(alert: AnyAlert) -> str:
    """One line naming the alert, for headers and panel titles."""
    if isinstance(alert, OperatorAlert):
        return f"Monitor: {alert.summary}"
    if isinstance(alert, DetectedAlert):
        added = sum(1 for e in alert.entities if e.action.value == "add")
        what = f"{added} entit{'y' if added == 1 else 'ies'} added" if added else "rule filed"
        hits = len(alert.securities)
        return f"{alert.list_name}: {what}, {hits} listed securit{'y' if hits == 1 else 'ies'} hit"
    lead = alert.headlines[0] if alert.headlines else None
    summary = f": CAAR{window(lead.window)} {pct(lead.caar)} (n={lead.n})" if lead else ""
    return f"{STAGE_LABELS[alert.stage]}{summary}"


def fallback_text(alert: AnyAlert, limit: int = 3000) -> str:
    """The plain-text version: Slack's notification and screen-reader text, and the webhook's ``text``."""
    if isinstance(alert, OperatorAlert):
        return clip(f"{title(alert)}. {alert.detail or ''}".strip(), limit)
    if isinstance(alert, DetectedAlert):
        filed = f"filed {when(alert.filed_at)}" if alert.filed_at else f"announced {when(alert.announced_at)}"
        by = f" by {', '.join(alert.filed_by)}" if alert.filed_by else ""
        hits = ", ".join(
            f"{s.symbol} ({s.relation.value}{', ' + pct(s.move) if s.move is not None else ''})"
            for s in sorted_securities(alert.securities)
        )
        text = f"{title(alert)}. {alert.title} ({alert.document_number}), {filed}{by}."
        if alert.entities:
            names = [e.name for e in alert.entities[:5]]
            more = f" and {len(alert.entities) - len(names)} more" if len(alert.entities) > len(names) else ""
            text += f" Entities: {'; '.join(names)}{more}."
        if hits:
            text += f" Matched: {hits}."
        if alert.parse_error:
            text += f" Entities could not be extracted: {alert.parse_error}."
        return clip(text, limit)
    lines = ", ".join(
        f"{s.symbol} CAR {pct(s.car)}" + (f" (t {number(s.car_t)})" if s.car_t is not None else "")
        for s in sorted_lines(alert.securities)
    )
    return clip(f"{title(alert)}. {alert.title} ({alert.document_number}). {lines}".rstrip(". ") + ".", limit)


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
