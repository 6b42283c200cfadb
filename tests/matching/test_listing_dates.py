"""Listing and delisting dates: parsed from files, stored on both databases, and shown on matches for an event day.

The dates expected here are public facts (exchange listing announcements), not derived from the code: SenseTime
first traded in Hong Kong on 2021-12-30, SMIC's STAR shares on 2020-07-16, NeoPhotonics stopped trading when
Lumentum's acquisition closed (first day off the market 2022-08-04).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.matching.csv_files import parse_securities, seed_universe
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.matching.store import load_universe, save_securities
from monitor.models import ListingStatus, Security

HEADER = "issuer_name,aliases,ticker,exchange_mic,country,currency,benchmark,listed_on,delisted_on\n"


def security(listed_on: date | None = None, delisted_on: date | None = None) -> Security:
    return Security(
        symbol="TEST",
        issuer_name="Test Co.",
        exchange_mic="XNAS",
        country="US",
        currency="USD",
        benchmark="^GSPC",
        listed_on=listed_on,
        delisted_on=delisted_on,
    )


@pytest.mark.parametrize(
    ("listed_on", "delisted_on", "day", "expected"),
    [
        (None, None, date(2019, 10, 7), ListingStatus.LISTED),
        (date(2021, 12, 30), None, date(2019, 10, 7), ListingStatus.LISTED_LATER),
        (date(2021, 12, 30), None, date(2021, 12, 30), ListingStatus.LISTED),  # its first session counts
        (None, date(2022, 8, 4), date(2022, 8, 3), ListingStatus.LISTED),
        (None, date(2022, 8, 4), date(2022, 8, 4), ListingStatus.DELISTED),
        (date(2010, 1, 4), date(2022, 8, 4), date(2023, 1, 2), ListingStatus.DELISTED),
    ],
)
def test_listing_status_on_a_day(
    listed_on: date | None, delisted_on: date | None, day: date, expected: ListingStatus
) -> None:
    assert security(listed_on, delisted_on).listing_status(day) is expected


def test_listing_dates_parse_and_are_checked_by_line() -> None:
    text = (
        HEADER
        + "A Co.,,AAA,XNAS,US,USD,^GSPC,2019-01-02,\n"
        + "B Co.,,BBB,XNAS,US,USD,^GSPC,2020-01-02,2019-01-02\n"
        + "C Co.,,CCC,XNAS,US,USD,^GSPC,,02/08/2022\n"
    )
    parsed = parse_securities(text)
    assert [(s.symbol, s.listed_on, s.delisted_on) for s in parsed.records] == [("AAA", date(2019, 1, 2), None)]
    assert [str(error) for error in parsed.errors] == [
        "line 3: delisted_on 2019-01-02 is not after listed_on 2020-01-02",
        "line 4: delisted_on '02/08/2022' is not a date like 2019-10-09",
    ]


def test_shipped_seed_carries_the_listing_dates_of_late_listings() -> None:
    by_symbol = {s.symbol: s for s in seed_universe().securities}
    assert by_symbol["0020.HK"].listed_on == date(2021, 12, 30)
    assert by_symbol["688981.SS"].listed_on == date(2020, 7, 16)
    assert by_symbol["NPTN"].delisted_on == date(2022, 8, 4)


def test_sensetime_is_no_hit_for_the_2019_rule_but_is_for_a_2022_one() -> None:
    matcher = Matcher(MatchIndex.build(seed_universe()))
    [in_2019] = matcher.match_name("Sense Time", as_of=date(2019, 10, 7))
    assert (in_2019.symbol, in_2019.features["listing_status"]) == ("0020.HK", "listed_later")
    assert in_2019.reason.startswith("listed later: first traded 2021-12-30, so not trading on 2019-10-07")
    [in_2022] = matcher.match_name("Sense Time", as_of=date(2022, 1, 10))
    assert in_2022.features["listing_status"] == "listed"
    assert "listed later" not in in_2022.reason
    [undated] = matcher.match_name("Sense Time")
    assert "listing_status" not in undated.features


def test_smic_star_shares_listed_later_for_a_2019_day_while_hong_kong_traded() -> None:
    matcher = Matcher(MatchIndex.build(seed_universe()))
    status = {m.symbol: m.features["listing_status"] for m in matcher.match_name("SMIC", as_of=date(2019, 10, 7))}
    assert status == {"0981.HK": "listed", "688981.SS": "listed_later"}


def test_listing_dates_round_trip_and_a_refresh_fills_only_what_is_missing(sessions: sessionmaker[Session]) -> None:
    curated = [security(listed_on=date(2010, 1, 4)), security().model_copy(update={"symbol": "OTHER"})]
    with sessions.begin() as session:
        save_securities(session, curated, source="seed")
    refreshed = [
        security(listed_on=date(2011, 1, 3), delisted_on=date(2022, 8, 4)),
        security(listed_on=date(2012, 5, 1)).model_copy(update={"symbol": "OTHER"}),
    ]
    with sessions.begin() as session:
        save_securities(session, refreshed, source="exchange", keep_curated=True)
    with sessions() as session:
        stored = {s.symbol: (s.listed_on, s.delisted_on) for s in load_universe(session).securities}
    assert stored == {
        "TEST": (date(2010, 1, 4), date(2022, 8, 4)),  # the curated listing date wins; the missing one is filled
        "OTHER": (date(2012, 5, 1), None),
    }
