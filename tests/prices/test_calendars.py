"""Calendars: day 0 on the worked dates of the reference notes, sessions, final bars, overrides and coverage.

Expected sessions are golden answers from ../shared/reference (libraries.md §4, eventstudy-methods.md §1.7) and
the exchanges' published holidays, never worked out by the calendar under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import CalendarSettings, Settings
from monitor.errors import CalendarOutOfRange, ConfigError, InputError
from monitor.prices.calendars import Calendars, calendars_from_settings, shared_calendars

# An illustrative full-year list of 2027 mainland closed weekdays, for the override mechanics only: New Year,
# Spring Festival (lunar new year falls on Sat 2027-02-06), Qingming, Labour Day, Dragon Boat, Mid-Autumn and
# National Day. It is test data, not the official SSE notice (which is published in December 2026).
MAINLAND_2027 = [
    date(2027, 1, 1),
    *[date(2027, 2, day) for day in (8, 9, 10, 11, 12)],
    date(2027, 4, 5),
    *[date(2027, 5, day) for day in (3, 4, 5)],
    date(2027, 6, 9),
    date(2027, 9, 15),
    date(2027, 10, 1),
    *[date(2027, 10, day) for day in (4, 5, 6, 7)],
]


@pytest.fixture(scope="module")
def calendars() -> Calendars:
    return Calendars(today=date(2026, 11, 21))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- day 0 -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["AMBA", "002415.SZ", "002236.SZ", "0981.HK"])
def test_october_2019_after_us_close_is_day0_on_the_8th_everywhere(calendars: Calendars, symbol: str) -> None:
    # Mon 2019-10-07 after the US close (16:30 EDT); China reopened after Golden Week on 10-08, HK was shut 10-07.
    assert calendars.day0(symbol, utc(2019, 10, 7, 20, 30)) == date(2019, 10, 8)


def test_announcement_during_a_us_session_makes_that_session_day0(calendars: Calendars) -> None:
    assert calendars.day0("AMBA", utc(2019, 10, 8, 15, 0)) == date(2019, 10, 8)  # 11:00 EDT


def test_exactly_at_the_close_is_still_that_session(calendars: Calendars) -> None:
    assert calendars.day0("AMBA", utc(2019, 10, 8, 20, 0)) == date(2019, 10, 8)
    assert calendars.day0("AMBA", utc(2019, 10, 8, 20, 0) + timedelta(seconds=1)) == date(2019, 10, 9)


@pytest.mark.parametrize(
    ("moment", "xnys", "asia"),
    [
        # FR public inspection at 08:45 ET: after the Shanghai and Hong Kong closes, before the US open.
        (utc(2019, 5, 16, 12, 45), date(2019, 5, 16), date(2019, 5, 17)),
        # 10:00 ET: intraday in New York (minute_to_future_session would wrongly say 05-17).
        (utc(2019, 5, 16, 14, 0), date(2019, 5, 16), date(2019, 5, 17)),
    ],
)
def test_reference_worked_examples(calendars: Calendars, moment: datetime, xnys: date, asia: date) -> None:
    assert calendars.day0_on("XNYS", moment) == xnys
    assert calendars.day0_on("XSHG", moment) == asia
    assert calendars.day0_on("XHKG", moment) == asia


def test_lunch_break_belongs_to_that_session(calendars: Calendars) -> None:
    assert calendars.day0("002415.SZ", utc(2019, 10, 10, 4, 0)) == date(2019, 10, 10)  # 12:00 in Shanghai
    assert calendars.day0("0981.HK", utc(2019, 10, 10, 4, 30)) == date(2019, 10, 10)  # 12:30 in Hong Kong


def test_golden_week_and_hong_kong_holidays(calendars: Calendars) -> None:
    after_shanghai_close = utc(2019, 9, 30, 8, 30)  # 16:30 local on Mon 09-30
    assert calendars.day0("002415.SZ", after_shanghai_close) == date(2019, 10, 8)
    assert calendars.day0("0981.HK", after_shanghai_close) == date(2019, 10, 2)  # HK shut 10-01 only


def test_universe_mic_decides_the_calendar(calendars: Calendars) -> None:
    assert calendars.day0("000063.SZ", utc(2019, 10, 7, 20, 30), mic="XSHE") == date(2019, 10, 8)
    assert calendars.name_for("AMBA", mic="XNAS") == "XNYS"


def test_naive_announcement_time_is_refused(calendars: Calendars) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendars.day0("AMBA", datetime(2019, 10, 7, 20, 30))


def test_day0_past_the_xshg_data_raises_instead_of_guessing(calendars: Calendars) -> None:
    """exchange-calendars ends in 2026; the provisional extension covers 2027; past that, no guessing."""
    with pytest.raises(CalendarOutOfRange, match=r"XSHG.*2027-12-31"):
        calendars.day0("002415.SZ", utc(2028, 1, 4, 3, 0))
    with pytest.raises(CalendarOutOfRange, match="XSHG"):
        calendars.day0("002415.SZ", utc(2027, 12, 31, 8, 0))  # after the last session's close


def test_day0_before_a_calendar_can_exist_raises(calendars: Calendars) -> None:
    with pytest.raises(CalendarOutOfRange, match="XSHG"):
        calendars.day0("600000.SS", utc(1985, 1, 2, 3, 0))


def test_calendar_is_widened_back_on_demand(calendars: Calendars) -> None:
    narrow = Calendars(start=date(2015, 1, 1), today=date(2026, 11, 21))
    assert narrow.day0("AMBA", utc(2008, 9, 15, 21, 0)) == date(2008, 9, 16)  # Lehman Monday, after the close


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=int(6.5 * 365 * 24 * 60)))
def test_day0_is_the_first_session_whose_close_is_at_or_after_the_announcement(minutes: int) -> None:
    calendars = shared_calendars()
    moment = utc(2018, 1, 1) + timedelta(minutes=minutes)
    for name in ("XNYS", "XSHG", "XHKG"):
        day0 = calendars.day0_on(name, moment)
        closes = calendars.calendar(name).closes
        position = closes.index.get_loc(pd.Timestamp(day0))
        assert closes.iloc[position] >= moment
        assert position == 0 or closes.iloc[position - 1] < moment


def test_day0_many_matches_one_at_a_time(calendars: Calendars) -> None:
    moments = [utc(2019, 10, 7, 20, 30), utc(2019, 5, 16, 14, 0), utc(2020, 12, 18, 1, 0)]
    many = calendars.day0_many("XSHG", moments)
    assert [d.date() for d in many] == [calendars.day0_on("XSHG", m) for m in moments]
    index = pd.DatetimeIndex(moments)
    assert list(calendars.day0_many("XSHG", index)) == list(many)
    assert len(calendars.day0_many("XSHG", [])) == 0


# --- sessions and closes -----------------------------------------------------------------------------------------


def test_sessions_around_golden_week(calendars: Calendars) -> None:
    xshg = calendars.sessions("XSHG", date(2019, 9, 27), date(2019, 10, 10))
    assert [d.date() for d in xshg] == [date(2019, 9, 27), date(2019, 9, 30)] + [date(2019, 10, d) for d in (8, 9, 10)]
    xhkg = calendars.sessions("XHKG", date(2019, 9, 27), date(2019, 10, 8))
    assert [d.date() for d in xhkg] == [date(2019, 9, 27), date(2019, 9, 30)] + [
        date(2019, 10, d) for d in (2, 3, 4, 8)
    ]


def test_sessions_reject_reversed_ranges_and_unbounded_dates(calendars: Calendars) -> None:
    with pytest.raises(InputError, match="before start"):
        calendars.sessions("XNYS", date(2019, 10, 10), date(2019, 10, 1))
    with pytest.raises(CalendarOutOfRange):
        calendars.sessions("XSHG", date(2027, 12, 1), date(2028, 1, 31))


def test_session_close_in_utc(calendars: Calendars) -> None:
    assert calendars.session_close("XNYS", date(2019, 10, 8)) == utc(2019, 10, 8, 20, 0)
    assert calendars.session_close("XNYS", date(2019, 12, 24)) == utc(2019, 12, 24, 18, 0)  # early close 13:00 ET
    assert calendars.session_close("XSHE", date(2019, 10, 8)) == utc(2019, 10, 8, 7, 0)
    with pytest.raises(InputError, match="not a XSHG session"):
        calendars.session_close("XSHG", date(2019, 10, 7))


def test_final_mask_waits_for_the_close_plus_margin(calendars: Calendars) -> None:
    days = pd.DatetimeIndex(["2019-10-07", "2019-10-08"])
    assert list(calendars.final_mask("XNYS", days, utc(2019, 10, 8, 20, 29), 30)) == [True, False]
    assert list(calendars.final_mask("XNYS", days, utc(2019, 10, 8, 20, 30), 30)) == [True, True]


def test_final_mask_judges_unknown_dates_by_the_end_of_the_local_day(calendars: Calendars) -> None:
    # 2028-01-05 is past the XSHG data: the bar is final once that Shanghai day (and the margin) is over.
    days = pd.DatetimeIndex(["2028-01-05"])
    assert not calendars.final_mask("XSHG", days, utc(2028, 1, 5, 15, 59), 0)[0]
    assert calendars.final_mask("XSHG", days, utc(2028, 1, 5, 16, 0), 0)[0]
    assert len(calendars.final_mask("XSHG", pd.DatetimeIndex([]), utc(2028, 1, 5), 0)) == 0


# --- overrides and coverage --------------------------------------------------------------------------------------


def test_overrides_extend_xshg_through_the_year_entered() -> None:
    extended = Calendars({"XSHG": MAINLAND_2027}, today=date(2026, 11, 21))
    # Fri 2027-02-05 after the close: the Spring Festival closure pushes day 0 to Mon 02-15.
    assert extended.day0("002415.SZ", utc(2027, 2, 5, 8, 0)) == date(2027, 2, 15)
    assert extended.day0("600000.SS", utc(2026, 12, 31, 8, 0)) == date(2027, 1, 4)
    with pytest.raises(CalendarOutOfRange, match="2027-12-31"):
        extended.day0("600000.SS", utc(2028, 1, 5, 3, 0))
    assert extended.coverage(utc(2026, 11, 21), names=["XSHG"]) == []


def test_overrides_close_extra_days_on_rule_based_calendars() -> None:
    closed = Calendars({"XNAS": [date(2019, 10, 8)]}, today=date(2026, 11, 21))  # keyed by MIC: XNAS → XNYS
    assert closed.day0("AMBA", utc(2019, 10, 7, 20, 30)) == date(2019, 10, 9)


def test_unknown_override_calendar_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="XXXX"):
        Calendars({"XXXX": [date(2027, 1, 1)]})


def test_coverage_warns_only_when_even_the_provisional_data_runs_out(calendars: Calendars) -> None:
    assert calendars.coverage(utc(2026, 11, 21, 9, 0), warn_days=60) == []  # 2027 is provisional, not missing
    warnings = calendars.coverage(utc(2027, 11, 21, 9, 0), warn_days=60)
    assert [(w.calendar, w.last_session, w.days_left) for w in warnings] == [("XSHG", date(2027, 12, 31), 40)]
    assert "holiday_overrides.XSHG" in warnings[0].message
    assert calendars.coverage(utc(2028, 2, 1), names=["XSHE"])[0].days_left == -32


def test_coverage_flags_an_incomplete_override_year() -> None:
    partial = Calendars({"XSHG": [date(2027, 2, 8)]}, today=date(2026, 11, 21))
    messages = [w.message for w in partial.coverage(utc(2026, 11, 21), names=["XSHG"])]
    assert any("only 1 closed weekdays in 2027" in m for m in messages)


def test_calendars_from_settings_are_shared_per_configuration() -> None:
    settings = Settings(calendars=CalendarSettings(holiday_overrides={"XSHG": MAINLAND_2027}))
    first = calendars_from_settings(settings)
    assert calendars_from_settings(settings) is first
    assert calendars_from_settings(Settings()) is not first
    assert first.day0("002415.SZ", utc(2027, 2, 5, 8, 0)) == date(2027, 2, 15)


# --- the provisional mainland calendar past exchange-calendars' data ----------------------------------------------


def test_2027_is_provisional_from_the_holidays_package(calendars: Calendars) -> None:
    """Spring Festival 2027 as the holidays package has it (eve Fri 02-05, closed Mon-Wed 02-08..10)."""
    assert calendars.provisional("XSHE") == (date(2027, 1, 1), date(2027, 12, 31))
    assert calendars.is_provisional("XSHG", date(2027, 2, 8))
    assert not calendars.is_provisional("XSHG", date(2026, 12, 31))
    assert calendars.provisional("XNYS") is None
    sessions = [d.date() for d in calendars.sessions("XSHG", date(2027, 2, 1), date(2027, 2, 12))]
    assert sessions == [date(2027, 2, d) for d in (1, 2, 3, 4, 11, 12)]
    # Thu 02-04 after the close: the festival pushes day 0 to Thu 02-11.
    assert calendars.day0("002415.SZ", utc(2027, 2, 4, 8, 0)) == date(2027, 2, 11)


def test_index_bars_correct_the_provisional_days() -> None:
    """If the exchange in fact stays shut through Fri 02-12 (as SSE announces in December), the index's bars say so
    and the calendar follows: a weekday without a bar was no session, once later bars exist."""
    calendars = Calendars(today=date(2026, 12, 1))
    traded = [date(2027, 2, d) for d in (1, 2, 3, 4)] + [date(2027, 2, d) for d in (15, 16, 17, 18, 19)]
    assert calendars.observe("XSHG", traded, through=date(2027, 2, 19))
    sessions = [d.date() for d in calendars.sessions("XSHG", date(2027, 2, 1), date(2027, 2, 22))]
    assert date(2027, 2, 11) not in sessions
    assert date(2027, 2, 12) not in sessions
    assert date(2027, 2, 22) in sessions  # after the last bar: still the provisional answer
    assert calendars.day0("002415.SZ", utc(2027, 2, 4, 8, 0)) == date(2027, 2, 15)
    assert not calendars.observe("XSHG", traded, through=date(2027, 2, 19))  # nothing new to learn
    assert not calendars.observe("XSHG", [date(2019, 10, 8)], through=date(2019, 10, 8))  # not provisional


def test_operator_overrides_replace_the_provisional_year() -> None:
    entered = Calendars({"XSHG": MAINLAND_2027}, today=date(2026, 11, 21))
    assert entered.provisional("XSHG") is None
    assert entered.day0("002415.SZ", utc(2027, 2, 5, 8, 0)) == date(2027, 2, 15)


def test_known_through_reads_the_holiday_data_once_per_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every study asks it once per exchange (thousands of times in a backfill); without overrides the answer is
    fixed for the process, with overrides it is worked out each time."""
    from monitor.prices import calendars as module

    calls: list[object] = []
    real = module.provisional_holidays

    def counted(overrides: Any) -> Any:
        calls.append(overrides)
        return real(overrides)

    monkeypatch.setattr(module, "provisional_holidays", counted)
    answers = {module.known_through("XSHG") for _ in range(5)} | {module.known_through("XSHE") for _ in range(5)}
    assert answers == {date(2027, 12, 31)}  # the library's 2026 bound plus the provisional year (as prices cmd shows)
    assert len(calls) <= 1  # XSHE is the same calendar as XSHG
    before = len(calls)
    module.known_through("XSHG", {"XSHG": [date(2028, 10, 2)]})
    module.known_through("XSHG", {"XSHG": [date(2028, 10, 2)]})
    assert len(calls) == before + 2
