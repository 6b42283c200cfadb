"""``due_stages`` and ``covered_through``: which follow-ups are due, as golden tables worked out by hand.

Shanghai closes at 15:00 (07:00 UTC) and was shut for Golden Week from 2019-10-01 to 10-07, so a rule announced on
Monday 2019-09-30 after its close has day 0 on Tuesday 10-08 and day +5 on Tuesday 10-15 (10-12 and 10-13 are the
weekend). New York closes at 16:00 EDT (20:00 UTC). Every stage waits for the close plus the 30-minute bar margin and
for prices through its session; halted sessions count as covered (the halt is known, not missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from monitor.config import Settings
from monitor.errors import CalendarOutOfRange
from monitor.models import AlertStage as Stage
from monitor.pipeline.followups import covered_through, due_stages
from monitor.prices.calendars import Calendars, calendars_from_settings
from monitor.study.results import DayResult, SecurityResult

CALENDARS = calendars_from_settings(Settings())
WINDOW = (-5, 5)
MARGIN = 30


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2019, month, day, hour, minute, tzinfo=UTC)


# (case, calendar, day 0, now, prices through) -> [(stage, its session, CAR window)]
GOLDEN: list[tuple[str, str, date, datetime, date | None, list[tuple[Stage, date, tuple[int, int]]]]] = [
    ("Shanghai: a minute short of close + margin", "XSHG", date(2019, 10, 8), utc(10, 8, 7, 29), date(2019, 10, 8), []),
    (
        "Shanghai: close + margin, day 0's bar in",
        "XSHG",
        date(2019, 10, 8),
        utc(10, 8, 7, 30),
        date(2019, 10, 8),
        [(Stage.DAY0, date(2019, 10, 8), (0, 0))],
    ),
    ("Shanghai: closed, but no prices yet", "XSHG", date(2019, 10, 8), utc(10, 8, 9), None, []),
    (
        "Shanghai: day +1 closed, its bar not in yet",
        "XSHG",
        date(2019, 10, 8),
        utc(10, 9, 8),
        date(2019, 10, 8),
        [(Stage.DAY0, date(2019, 10, 8), (0, 0))],
    ),
    (
        "Shanghai: day +1 closed and in",
        "XSHG",
        date(2019, 10, 8),
        utc(10, 9, 8),
        date(2019, 10, 9),
        [(Stage.DAY0, date(2019, 10, 8), (0, 0)), (Stage.DAY1, date(2019, 10, 9), (0, 1))],
    ),
    (
        "Shanghai: day +5 is the window's last session (over the weekend)",
        "XSHG",
        date(2019, 10, 8),
        utc(10, 15, 7, 30),
        date(2019, 10, 15),
        [
            (Stage.DAY0, date(2019, 10, 8), (0, 0)),
            (Stage.DAY1, date(2019, 10, 9), (0, 1)),
            (Stage.DAY5, date(2019, 10, 15), (0, 5)),
            (Stage.WINDOW_CLOSED, date(2019, 10, 15), WINDOW),
        ],
    ),
    (
        "New York, same day 0: Shanghai's close means nothing here",
        "XNYS",
        date(2019, 10, 8),
        utc(10, 8, 20, 29),
        date(2019, 10, 8),
        [],
    ),
    (
        "New York: close (20:00 UTC) + margin",
        "XNYS",
        date(2019, 10, 8),
        utc(10, 8, 20, 30),
        date(2019, 10, 8),
        [(Stage.DAY0, date(2019, 10, 8), (0, 0))],
    ),
]


@pytest.mark.parametrize(
    ("calendar", "day0", "now", "through", "expected"), [row[1:] for row in GOLDEN], ids=[row[0] for row in GOLDEN]
)
def test_due_stages_golden_table(
    calendar: str, day0: date, now: datetime, through: date | None, expected: list[tuple[Stage, date, tuple[int, int]]]
) -> None:
    due = due_stages(CALENDARS, calendar, day0, now=now, margin_minutes=MARGIN, window=WINDOW, covered_through=through)
    assert [(d.stage, d.session, d.car_window) for d in due] == expected


def test_shanghai_day0_skips_golden_week() -> None:
    """The day 0 the table starts from: after Monday's close, the next session is the Tuesday after the holiday."""
    assert CALENDARS.day0_on("XSHG", utc(9, 30, 12)) == date(2019, 10, 8)
    assert CALENDARS.day0_on("XNYS", utc(10, 7, 20, 15)) == date(2019, 10, 8)


class PastItsData:
    """A calendar whose data ends before the window: any request for sessions is refused."""

    def sessions(self, name: str, start: date, end: date) -> object:
        raise CalendarOutOfRange(name, end, date(2026, 12, 31))


def test_a_calendar_past_its_data_makes_nothing_due() -> None:
    past: Calendars = PastItsData()  # type: ignore[assignment]
    due = due_stages(
        past,
        "XSHG",
        date(2026, 12, 28),
        now=datetime(2027, 3, 1, tzinfo=UTC),
        margin_minutes=MARGIN,
        window=WINDOW,
        covered_through=date(2027, 2, 1),
    )
    assert due == []


def result(status: str, *dated: tuple[date, bool]) -> SecurityResult:
    days = tuple(
        DayResult(
            rel_day=i,
            date=day,
            ret=None,
            benchmark_return=None,
            ar=None if halted else 0.01,
            ar_t=None,
            car=None,
            sessions=0 if halted else 1,
            halted=halted,
        )
        for i, (day, halted) in enumerate(dated)
    )
    return SecurityResult("X", "^B", date(2019, 10, 8), status, None, days=days)


D8, D9, D10 = date(2019, 10, 8), date(2019, 10, 9), date(2019, 10, 10)
COVERAGE: list[tuple[str, Sequence[SecurityResult], date | None]] = [
    ("one complete study", [result("complete", (D8, False), (D9, False))], D9),
    (
        "the group is as far as its least covered study",
        [result("partial", (D8, False), (D9, False)), result("partial", (D8, False))],
        D8,
    ),
    ("a halted session counts as covered", [result("partial", (D8, False), (D9, True), (D10, True))], D10),
    (
        "studies without a result are left out",
        [result("partial", (D8, False)), result("insufficient_data"), result("error")],
        D8,
    ),
    (
        "a usable study without any dated day: nothing covered",
        [result("partial", (D8, False)), result("partial")],
        None,
    ),
    ("no usable study at all", [result("pending"), result("insufficient_data")], None),
]


@pytest.mark.parametrize(("results", "expected"), [row[1:] for row in COVERAGE], ids=[row[0] for row in COVERAGE])
def test_covered_through_golden_table(results: Sequence[SecurityResult], expected: date | None) -> None:
    assert covered_through(results) == expected
