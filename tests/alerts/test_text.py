"""Shared wording: numbers, prices, times and the plain-text fallback."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from alerts import text as t
from monitor.models import AlertStage
from monitor.outbox import OperatorAlert
from tests.fakes.alert_samples import detected, follow_up


def test_numbers_prices_and_windows() -> None:
    assert t.pct(-0.0991) == "-9.9%"
    assert t.pct(0.1234, 2) == "+12.34%"
    assert t.pct(None) == "n/a"
    assert t.price(31.2, "CNY") == "¥31.20"
    assert t.price(1234.5, "HKD") == "HK$1,234.50"
    assert t.price(7.0, "SEK") == "7.00 SEK"
    assert t.window((0, 1)) == "[0,+1]"
    assert t.window((-5, 5)) == "[-5,+5]"
    assert t.window((0, 0)) == "[0,0]"
    assert t.window((0, 10)) == "[0,+10]"


def test_times_are_shown_in_new_york_and_utc_across_daylight_saving() -> None:
    assert t.when(datetime(2019, 10, 7, 20, 15, tzinfo=UTC)) == "2019-10-07 16:15 ET (20:15 UTC)"
    assert t.when(datetime(2019, 12, 2, 13, 45, tzinfo=UTC)) == "2019-12-02 08:45 ET (13:45 UTC)"


@given(st.text(max_size=500), st.integers(min_value=1, max_value=400))
def test_clip_never_exceeds_its_limit_and_keeps_short_text(value: str, limit: int) -> None:
    clipped = t.clip(value, limit)
    assert len(clipped) <= limit
    if len(value) <= limit:
        assert clipped == value
    else:
        assert clipped.endswith("…")


def test_fallback_texts_are_informative_and_bounded() -> None:
    text = t.fallback_text(detected(3))
    assert "filed 2019-10-07 16:15 ET (20:15 UTC) by Industry and Security Bureau" in text
    assert text.startswith("Addition of Certain Entities to the Entity List: 8 listed securities hit. 002236.SZ")
    assert "002415.SZ (direct, -9.9%)" in text
    assert "AMBA (supplier, -4.1%) and 3 more." in text  # the top five tickers, then a count
    assert "28 entities (28 added), full list in the thread." in text
    assert len(t.fallback_text(detected(3, n_securities=500), limit=300)) <= 300
    follow = t.fallback_text(follow_up(3, AlertStage.DAY5))
    assert follow.startswith("Day +5 close: CAAR[0,+5] -3.1% (n=8).")
    assert "002415.SZ CAR -14.9%" in follow
    operator = OperatorAlert(key="k", summary="alerts to slack are failing", detail="boom", raised_at=datetime.now(UTC))
    assert t.fallback_text(operator) == "Monitor: alerts to slack are failing. boom"
