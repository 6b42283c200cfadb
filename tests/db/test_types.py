"""Timestamps go in and come out as aware UTC on both databases; naive ones are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.tables import Document, FeedState

NEW_YORK = ZoneInfo("America/New_York")


def _document(number: str, first_seen_at: datetime, filed_at: datetime | None = None) -> Document:
    return Document(
        document_number=number,
        source="pi",
        title="Addition of Certain Entities to the Entity List",
        first_seen_at=first_seen_at,
        filed_at=filed_at,
        publication_date=date(2019, 10, 9),
    )


def test_aware_in_aware_utc_out(sessions: sessionmaker[Session]) -> None:
    filed = datetime(2019, 10, 7, 16, 15, 0, 123456, tzinfo=NEW_YORK)  # EDT, UTC-4
    with sessions.begin() as session:
        session.add(_document("2019-22210", first_seen_at=filed + timedelta(minutes=1), filed_at=filed))
    with sessions() as session:
        stored = session.execute(select(Document)).scalar_one()
    assert stored.filed_at == datetime(2019, 10, 7, 20, 15, 0, 123456, tzinfo=UTC)
    assert stored.filed_at.tzinfo is UTC
    assert stored.filed_at.utcoffset() == timedelta(0)
    assert stored.first_seen_at.tzinfo is UTC
    assert stored.publication_date == date(2019, 10, 9)


def test_comparisons_use_utc(sessions: sessionmaker[Session]) -> None:
    """A filter with an aware non-UTC bound compares against the stored UTC instant, on both databases."""
    with sessions.begin() as session:
        session.add(_document("A", datetime(2019, 10, 7, 20, 15, tzinfo=UTC)))
        session.add(_document("B", datetime(2019, 10, 7, 21, 15, tzinfo=UTC)))
    bound = datetime(2019, 10, 7, 16, 30, tzinfo=NEW_YORK)  # 20:30 UTC
    with sessions() as session:
        later = session.execute(select(Document.document_number).where(Document.first_seen_at > bound)).scalars()
        assert list(later) == ["B"]


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(FeedState(feed="pi", last_success_at=datetime(2019, 10, 7, 20, 15)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_round_trip_property(sessions: sessionmaker[Session], moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    feed = f"feed-{uuid.uuid4().hex[:20]}"
    with sessions.begin() as session:
        session.add(FeedState(feed=feed, last_success_at=aware))
    with sessions() as session:
        stored = session.get(FeedState, feed)
        assert stored is not None
        assert stored.last_success_at is not None
        assert stored.last_success_at == aware
        assert stored.last_success_at.tzinfo is UTC
