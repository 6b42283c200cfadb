"""Which exchanges' closes trigger a price refresh: the calendars of the studies the refresh would fetch.

``Pipeline.refresh_prices`` fetches the listings of open studies and of studies retried for want of usable data
(``benchmark_gap``, ``bad_price``, ``insufficient_data``, ``error``, for ``retry_days`` after the announcement).
Before, ``calendars_in_use`` counted open studies only, so an event whose Shenzhen study waited on a benchmark gap
never had Shenzhen's close refresh its bars: the retry depended on the study job noticing bars days stale.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables import Document, EventRow, Study
from monitor.pipeline import Pipeline
from monitor.prices.calendars import shared_calendars

NOW = datetime(2019, 10, 20, 12, 0, tzinfo=UTC)


def _event(session: Session, number: str, announced: datetime, studies: dict[str, str]) -> None:
    document = Document(document_number=number, source="fr", title="Entity List", first_seen_at=announced)
    session.add(document)
    session.flush()
    event = EventRow(document_id=document.id, announced_at=announced, announced_source="published", title=number)
    session.add(event)
    session.flush()
    for symbol, status in studies.items():
        session.add(
            Study(event_id=event.id, symbol=symbol, benchmark="^GSPC", status=status, model="market", estimation=250,
                  gap=10, window_start=-5, window_end=5)
        )  # fmt: skip


def test_calendars_in_use_follow_what_a_refresh_fetches(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    pipeline = Pipeline(
        sessions, Settings(data_dir=tmp_path), SimulatedClock(NOW), calendars=shared_calendars(), price_source=None
    )
    with sessions.begin() as session:
        _event(session, "recent", NOW - timedelta(days=12), {"AMBA": "complete", "002415.SZ": "benchmark_gap"})
        _event(session, "open", NOW - timedelta(days=40), {"0981.HK": "partial", "688981.SS": "bad_price"})
        _event(session, "settled", NOW - timedelta(days=5), {"NVDA": "complete", "6697.T": "listed_later"})
    # Shenzhen: a benchmark gap retried (12 days < retry_days); Hong Kong: a partial window. Not New York (complete,
    # listed later: nothing to fetch), not the STAR share's bad price of an event past retry_days (40 > 30).
    assert pipeline.calendars_in_use() == {"XSHG", "XHKG"}
