"""Follow-up alerts: which stages are due for an event's exchange, and what each says.

Decide, then act: ``due_stages`` is a pure function of the exchange calendar, day 0, the clock and the study's
coverage; ``follow_up`` turns a study run into the typed alert. The pipeline enqueues what these return, in the
same transaction as the study rows they report.

Stages are per exchange (an event's Shenzhen securities close hours before its New York ones): day 0's close, the
next session's, the fifth's, and the close of the event window's last session. Each follow-up reports one exchange
and one window: its CARs, its pooled numbers (over that exchange's securities whose window is complete, stated as
"n complete of n matched") and its chart all cover ``car_window``. The pool of every exchange is added only to the
last "window closed" card, once every exchange's window is complete, so two cards never disagree on one number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.errors import CalendarOutOfRange
from monitor.models import MEASURED_STUDY_STATUSES, OPEN_STUDY_STATUSES, AlertStage, Relation, StudyStatus
from monitor.outbox import ChartSeries, FollowUpAlert, Headline, PathPoint, StudyLine, TestStat
from monitor.pipeline.facts import SecurityMeta
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import CALENDAR_NAMES, listing
from monitor.study import Aggregate, SecurityResult, StudyParams
from monitor.study.params import window_label
from monitor.study.results import WindowTests

DAY_STAGES: tuple[tuple[AlertStage, int], ...] = ((AlertStage.DAY0, 0), (AlertStage.DAY1, 1), (AlertStage.DAY5, 5))
USABLE = {status.value for status in MEASURED_STUDY_STATUSES}
OPEN = {status.value for status in OPEN_STUDY_STATUSES}

# Headline statistics in the order a trader reads them: the date-clustering-robust ones first.
HEADLINE_TESTS: tuple[tuple[str, str], ...] = (
    ("kp_bmp_t", "Kolari-Pynnonen BMP t"),
    ("portfolio_t", "Portfolio t (crude dependence)"),
    ("rank_z", "Corrado rank Z"),
    ("bmp_t", "BMP t"),
    ("patell_z", "Patell Z"),
    ("cross_sectional_t", "Cross-sectional t"),
    ("generalized_sign_z", "Generalized sign Z"),
)


@dataclass(frozen=True)
class DueStage:
    stage: AlertStage
    rel_day: int
    session: date
    car_window: tuple[int, int]
    close: datetime | None = None  # the session's close (UTC): when the exchange closed


def stage_schedule(window: tuple[int, int]) -> list[tuple[AlertStage, int]]:
    """The stages an event window has: day 0, +1 and +5 when inside the window, and the window's close."""
    stages = [(stage, offset) for stage, offset in DAY_STAGES if offset <= window[1]]
    stages.append((AlertStage.WINDOW_CLOSED, window[1]))
    return stages


def due_stages(
    calendars: Calendars,
    calendar: str,
    day0: date,
    *,
    now: datetime,
    margin_minutes: int,
    window: tuple[int, int],
    covered_through: date | None,
) -> list[DueStage]:
    """Stages whose session has closed (plus the bar margin) and whose prices are in (``covered_through``)."""
    horizon = day0 + timedelta(days=max(30, window[1] * 3 + 20))
    try:
        sessions = [stamp.date() for stamp in calendars.sessions(calendar, day0, horizon)]
    except CalendarOutOfRange:
        return []
    due: list[DueStage] = []
    for stage, offset in stage_schedule(window):
        if offset >= len(sessions):
            continue
        session = sessions[offset]
        close = calendars.session_close(calendar, session)
        closed = close + timedelta(minutes=margin_minutes) <= now
        if closed and covered_through is not None and covered_through >= session:
            car_window = window if stage is AlertStage.WINDOW_CLOSED else (0, offset)
            due.append(DueStage(stage, offset, session, car_window, close))
    return due


def covered_through(results: Sequence[SecurityResult]) -> date | None:
    """The last session every usable study of a group has prices for (halted sessions count as covered)."""
    lasts: list[date] = []
    for result in results:
        if result.status not in USABLE:
            continue
        dated = [day.date for day in result.days if day.date is not None]
        if not dated:
            return None
        lasts.append(max(dated))
    return min(lasts) if lasts else None


def due_follow_ups(
    calendars: Calendars,
    *,
    event_id: int,
    document_number: str,
    title: str,
    announced_at: datetime,
    federal_register_url: str | None,
    results: Sequence[SecurityResult],
    groups: Mapping[str, Aggregate],
    params: StudyParams,
    meta: Mapping[str, SecurityMeta],
    now: datetime,
    margin_minutes: int,
    exchanges: Mapping[str, Mapping[str, Aggregate]] | None = None,
) -> list[FollowUpAlert]:
    """Every follow-up due at ``now``: per exchange calendar of the studied securities, each stage whose session
    has closed and whose prices are in (``due_stages``), written by ``follow_up``.

    ``groups`` pools the whole event (every exchange); ``exchanges`` holds each calendar's own aggregates, which
    are what that calendar's follow-ups report (without them, a single-exchange event's ``groups`` are used)."""
    by_calendar: dict[str, list[SecurityResult]] = {}
    for result in results:
        mic = meta[result.symbol].exchange_mic if result.symbol in meta else None
        by_calendar.setdefault(listing(result.symbol, mic=mic).calendar, []).append(result)
    final = all(r.status not in OPEN for r in results)
    alerts: list[FollowUpAlert] = []
    for calendar, members in sorted(by_calendar.items()):
        own = (exchanges or {}).get(calendar, groups if len(by_calendar) == 1 else {})
        day0 = next((r.day0 for r in members if r.day0 is not None), None)
        if day0 is None:
            continue
        for due in due_stages(
            calendars,
            calendar,
            day0,
            now=now,
            margin_minutes=margin_minutes,
            window=params.window,
            covered_through=covered_through(members),
        ):
            alerts.append(
                follow_up(
                    event_id=event_id,
                    document_number=document_number,
                    title=title,
                    announced_at=announced_at,
                    federal_register_url=federal_register_url,
                    calendar=calendar,
                    due=due,
                    results=members,
                    groups=own,
                    params=params,
                    meta=meta,
                    time_zone=str(calendars.calendar(calendar).tz),
                    everywhere=groups.get("all") if len(by_calendar) > 1 else None,
                    everywhere_matched=len(results),
                    everywhere_final=final,
                )
            )
    return alerts


def follow_up(
    *,
    event_id: int,
    document_number: str,
    title: str,
    announced_at: datetime,
    federal_register_url: str | None,
    calendar: str,
    due: DueStage,
    results: Sequence[SecurityResult],
    groups: Mapping[str, Aggregate],
    params: StudyParams,
    meta: Mapping[str, SecurityMeta],
    time_zone: str | None = None,
    everywhere: Aggregate | None = None,
    everywhere_matched: int = 0,
    everywhere_final: bool = False,
) -> FollowUpAlert:
    """The follow-up of one exchange's close: ``results`` and ``groups`` are that exchange's securities only.

    ``everywhere`` (the pool of every exchange's ``everywhere_matched`` securities) is shown on a "window closed"
    card only when ``everywhere_final`` (no security of the event is still open anywhere): no later card could
    then report another number for it.
    """
    name = CALENDAR_NAMES.get(calendar, calendar)
    matched = len(results)
    complete = sum(1 for result in results if _complete(result, due))
    headlines = tuple(
        headline
        for key, aggregate in groups.items()
        if (headline := _headline(f"{name}: {key}", aggregate, due, params, _matched(key, results, meta)))
    )
    if everywhere is not None and due.stage is AlertStage.WINDOW_CLOSED and everywhere_final:
        pooled = _headline("all exchanges", everywhere, due, params, everywhere_matched)
        headlines += (pooled,) if pooled is not None else ()
    paths = tuple(_path(result, due) for result in results if result.status in USABLE)
    caar = groups.get("all")
    if caar is not None:
        paths += (_caar_path(caar, due, f"CAAR {name}"),)
    closed_at = due.close.astimezone(ZoneInfo(time_zone)) if due.close is not None and time_zone else due.close
    return FollowUpAlert(
        stage=due.stage,
        event_id=event_id,
        group=calendar,
        document_number=document_number,
        title=title,
        announced_at=announced_at,
        car_window=due.car_window,
        exchange=calendar,
        exchange_name=name,
        session=due.session,
        closed_at=closed_at,
        time_zone=time_zone,
        n_complete=complete,
        n_matched=matched,
        securities=tuple(_line(result, due, meta.get(result.symbol)) for result in results),
        headlines=headlines,
        paths=paths,
        federal_register_url=federal_register_url,
    )


def _complete(result: SecurityResult, due: DueStage) -> bool:
    """Whether ``result``'s CAR over the stage's window has every return it needs."""
    if due.stage is AlertStage.WINDOW_CLOSED:
        return result.status == StudyStatus.COMPLETE.value
    window = result.sub_windows.get(window_label(due.car_window))
    return result.status in USABLE and window is not None and window.complete


def _matched(key: str, results: Sequence[SecurityResult], meta: Mapping[str, SecurityMeta]) -> int:
    if key == "all":
        return len(results)
    return sum(1 for r in results if (m := meta.get(r.symbol)) is not None and m.relation.value == key)


def _line(result: SecurityResult, due: DueStage, meta: SecurityMeta | None) -> StudyLine:
    day = next((d for d in result.days if d.rel_day == due.rel_day), None)
    window = result.sub_windows.get(window_label(due.car_window))
    if due.stage is AlertStage.WINDOW_CLOSED or window is None:
        car, car_t = result.car, result.car_t
        if window is None and due.stage is not AlertStage.WINDOW_CLOSED:
            car = _sum_ar(result, due.car_window)
            car_t = None
    else:
        car, car_t = window.car, window.t
    note = result.reason if result.status not in USABLE else None
    if result.day0_halted and result.reaction_date is not None:
        note = f"halted on day 0; its reaction is measured on {result.reaction_date.isoformat()}"
    return StudyLine(
        symbol=result.symbol,
        issuer=meta.issuer if meta else "",
        exchange_mic=meta.exchange_mic if meta else "",
        relation=meta.relation if meta else Relation.DIRECT,
        score=meta.score if meta else 1.0,
        entity_name=meta.entity_name if meta else "",
        status=StudyStatus(result.status),
        day0=result.day0,
        through=result.through_date,
        rel_day=due.rel_day,
        ar=day.ar if day is not None else None,
        car=car,
        car_t=car_t,
        halted=bool(day.halted) if day is not None else False,
        note=note,
    )


def _sum_ar(result: SecurityResult, window: tuple[int, int]) -> float | None:
    values = [d.ar for d in result.days if window[0] <= d.rel_day <= window[1] and d.ar is not None]
    return float(sum(values)) if values else None


def _headline(key: str, aggregate: Aggregate, due: DueStage, params: StudyParams, matched: int) -> Headline | None:
    tests: WindowTests | None
    if due.stage is AlertStage.WINDOW_CLOSED:
        tests = aggregate.tests
    else:
        tests = aggregate.sub_windows.get(window_label(due.car_window))
    if tests is None or tests.n == 0:
        return None
    stats = [
        TestStat(name=label, statistic=tests.statistic(name).value, p_value=tests.statistic(name).p_value)
        for name, label in HEADLINE_TESTS
    ]
    if due.stage is AlertStage.WINDOW_CLOSED and aggregate.placebo is not None:
        stats.append(TestStat(name="Placebo dates p", p_value=aggregate.placebo.p_value))
    window = params.window if due.stage is AlertStage.WINDOW_CLOSED else due.car_window
    return Headline(group=key, n=tests.n, n_matched=matched, caar=tests.caar, window=window, tests=tuple(stats))


def _path(result: SecurityResult, due: DueStage) -> ChartSeries:
    """The security's ARs over the card's window and their running sum from the window's first day (its CAR)."""
    first, last = due.car_window
    running = 0.0
    points: list[PathPoint] = []
    for day in result.days:
        if first <= day.rel_day <= last:
            running += day.ar or 0.0
            points.append(PathPoint(rel_day=day.rel_day, ar=day.ar, car=running if day.ar is not None else None))
    return ChartSeries(label=result.symbol, points=tuple(points))


def _caar_path(aggregate: Aggregate, due: DueStage, label: str) -> ChartSeries:
    first, last = due.car_window
    running = 0.0
    points: list[PathPoint] = []
    for day in aggregate.aar:
        if not first <= day.rel_day <= last:
            continue
        running += day.aar or 0.0
        points.append(PathPoint(rel_day=day.rel_day, ar=day.aar, car=running if day.aar is not None else None))
    return ChartSeries(label=label, points=tuple(points))
