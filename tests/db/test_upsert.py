"""The upsert helper: natural keys, merge rules and batching, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.tables import AlertRow, DailyPrice, Document, EventRow, SecurityRow
from monitor.db.upsert import upsert, upsert_returning_id

T0 = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)


def _doc_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "document_number": "2019-22210",
        "source": "pi",
        "title": "Commerce Department: Addition of Certain Entities to the Entity List  ",
        "filed_at": T0,
        "publication_date": None,
        "first_seen_at": T0 + timedelta(seconds=30),
        "pi_seen_at": T0 + timedelta(seconds=30),
        "published_seen_at": None,
        "full_text_xml_url": None,
    }
    row.update(changes)
    return row


def _merge(session: Session, row: dict[str, object]) -> None:
    upsert(
        session,
        Document,
        [row],
        key=["document_number"],
        insert_only=["first_seen_at", "source"],
        fill_nulls=["pi_seen_at", "published_seen_at", "filed_at"],
        prefer_new=["publication_date", "full_text_xml_url"],
    )


def test_public_inspection_and_published_versions_merge(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _merge(session, _doc_row())
    published_seen = T0 + timedelta(days=1, hours=15)
    with sessions.begin() as session:
        _merge(
            session,
            _doc_row(
                source="fr",
                title="Addition of Certain Entities to the Entity List",
                filed_at=None,
                publication_date=date(2019, 10, 9),
                first_seen_at=published_seen,
                pi_seen_at=None,
                published_seen_at=published_seen,
                full_text_xml_url="https://www.federalregister.gov/documents/full_text/xml/2019/10/09/2019-22210.xml",
            ),
        )
    with sessions() as session:
        stored = session.execute(select(Document)).scalar_one()
    assert stored.source == "pi"  # insert-only: the first feed to see it
    assert stored.first_seen_at == T0 + timedelta(seconds=30)  # insert-only: never moves later
    assert stored.filed_at == T0  # fill_nulls: a later NULL does not erase it
    assert stored.pi_seen_at == T0 + timedelta(seconds=30)
    assert stored.published_seen_at == published_seen  # fill_nulls: fills the gap
    assert stored.publication_date == date(2019, 10, 9)  # prefer_new: the published value wins
    assert stored.title == "Addition of Certain Entities to the Entity List"  # overwritten
    assert stored.full_text_xml_url is not None


def test_prefer_new_never_erases_with_null(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _merge(session, _doc_row(publication_date=date(2019, 10, 9)))
        _merge(session, _doc_row(publication_date=None))
    with sessions() as session:
        assert session.execute(select(Document.publication_date)).scalar_one() == date(2019, 10, 9)


def test_running_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    rows = [
        {"symbol": "AMBA", "date": date(2019, 10, 7), "close": 57.22, "adj_close": 57.22, "source": "csv"},
        {"symbol": "AMBA", "date": date(2019, 10, 8), "close": 51.79, "adj_close": 51.79, "source": "csv"},
    ]
    for _ in range(2):
        with sessions.begin() as session:
            upsert(session, DailyPrice, rows, key=["symbol", "date"])
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(DailyPrice)).scalar_one() == 2


def test_overwrite_updates_values(sessions: sessionmaker[Session]) -> None:
    row = {"symbol": "AMBA", "date": date(2019, 10, 8), "close": 51.79, "adj_close": 51.79, "source": "csv"}
    with sessions.begin() as session:
        upsert(session, DailyPrice, [row], key=["symbol", "date"])
        upsert(session, DailyPrice, [{**row, "adj_close": 50.10, "source": "yfinance"}], key=["symbol", "date"])
    with sessions() as session:
        stored = session.get(DailyPrice, ("AMBA", date(2019, 10, 8)))
        assert stored is not None
        assert (stored.adj_close, stored.source, stored.close) == (50.10, "yfinance", 51.79)


def test_do_nothing_keeps_the_first_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        event_doc = upsert_returning_id(session, Document, _doc_row(), key=["document_number"])
        event_id = upsert_returning_id(
            session,
            EventRow,
            {"document_id": event_doc, "announced_at": T0, "announced_source": "pi_filed_at", "title": "x"},
            key=["document_id"],
        )
        alert = {
            "dedup_key": "1:detected",
            "event_id": event_id,
            "stage": "detected",
            "payload": {"n": 1},
            "due_at": T0,
        }
        assert upsert(session, AlertRow, [alert], key=["dedup_key"], do_nothing=True) == 1
        assert upsert(session, AlertRow, [{**alert, "payload": {"n": 2}}], key=["dedup_key"], do_nothing=True) == 0
    with sessions() as session:
        assert session.execute(select(AlertRow.payload)).scalar_one() == {"n": 1}


def test_upsert_returning_id_is_stable(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = upsert_returning_id(session, Document, _doc_row(), key=["document_number"])
        second = upsert_returning_id(session, Document, _doc_row(title="changed"), key=["document_number"])
    assert first == second


def test_large_batches_are_chunked(sessions: sessionmaker[Session]) -> None:
    start = date(2000, 1, 1)
    rows = [
        {
            "symbol": f"S{i % 7}",
            "date": start + timedelta(days=i // 7),
            "close": float(i),
            "adj_close": float(i),
            "volume": 1.0,
            "source": "bench",
        }
        for i in range(12_000)
    ]
    with sessions.begin() as session:
        upsert(session, DailyPrice, rows, key=["symbol", "date"])
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(DailyPrice)).scalar_one() == 12_000


def test_rows_must_share_columns(session: Session) -> None:
    with pytest.raises(ValueError, match="row 1 has columns"):
        upsert(
            session,
            DailyPrice,
            [{"symbol": "A", "date": date(2020, 1, 2), "source": "x"}, {"symbol": "A", "date": date(2020, 1, 3)}],
            key=["symbol", "date"],
        )


def test_unknown_column_is_named(session: Session) -> None:
    with pytest.raises(ValueError, match=r"daily_prices has no column\(s\) \['price'\]"):
        upsert(session, DailyPrice, [{"symbol": "A", "date": date(2020, 1, 2), "price": 1.0}], key=["symbol", "date"])


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (
            SecurityRow,
            lambda: SecurityRow(
                symbol="AMBA",
                issuer_name="Ambarella",
                exchange_mic="XNAS",
                country="US",
                currency="USD",
                benchmark="^GSPC",
            ),
        ),
        (DailyPrice, lambda: DailyPrice(symbol="AMBA", date=date(2019, 10, 8), source="csv")),
        (Document, lambda: Document(document_number="2019-22210", source="fr", title="t", first_seen_at=T0)),
    ],
)
def test_natural_keys_are_unique(sessions: sessionmaker[Session], model: type, make: object) -> None:
    with sessions.begin() as session:
        session.add(make())  # type: ignore[operator]
    with sessions() as session:
        session.add(make())  # type: ignore[operator]
        with pytest.raises(IntegrityError):
            session.commit()
