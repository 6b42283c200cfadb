"""Realistic alerts for tests: the October 2019 Entity List rule (FR Doc 2019-22210) and its market reaction.

Facts (title, filing time, agency, links, entity names) are those of the real rule in
``../shared/data/feeds/entity_list_2019-22210``; prices and returns are illustrative, shaped like the study output.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.tables.documents import Document, EventRow
from monitor.models import AlertStage, AnnouncementSource, Relation, StudyStatus
from monitor.outbox import (
    ChartSeries,
    DetectedAlert,
    EntityLine,
    FollowUpAlert,
    Headline,
    MatchedSecurity,
    PathPoint,
    StudyLine,
    TestStat,
)

FILED_AT = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)  # 16:15 ET, a special filing
FR_URL = (
    "https://www.federalregister.gov/documents/2019/10/09/2019-22210/addition-of-certain-entities-to-the-entity-list"
)
PI_URL = "https://public-inspection.federalregister.gov/2019-22210.pdf?1570479300"
TITLE = "Addition of Certain Entities to the Entity List"

COMPANIES = [
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "002415.SZ", "Hikvision", "XSHE", "CNY", 31.2, -0.099),
    ("Zhejiang Dahua Technology Co., Ltd.", "002236.SZ", "Dahua", "XSHE", "CNY", 17.1, -0.1),
    ("iFLYTEK Co., Ltd.", "002230.SZ", "iFlytek", "XSHE", "CNY", 32.6, -0.0416),
    ("Xiamen Meiya Pico Information Co., Ltd.", "300188.SZ", "Meiya Pico", "XSHE", "CNY", 19.8, -0.1),
]
SUPPLIERS = [
    ("AMBA", "Ambarella, Inc.", "Hangzhou Hikvision Digital Technology Co., Ltd.", 56.12, -0.041),
    ("NVDA", "NVIDIA Corporation", "Hangzhou Hikvision Digital Technology Co., Ltd.", 179.6, -0.018),
    ("STX", "Seagate Technology plc", "Zhejiang Dahua Technology Co., Ltd.", 51.3, -0.009),
    ("WDC", "Western Digital Corporation", "Zhejiang Dahua Technology Co., Ltd.", 57.9, -0.012),
]


def make_event(session: Session, document_number: str = "2019-22210") -> int:
    """A document and its event row (alerts reference events); returns the event id. Flushes, never commits."""
    existing = session.scalar(
        select(EventRow.id)
        .join(Document, Document.id == EventRow.document_id)
        .where(Document.document_number == document_number)
    )
    if existing is not None:
        return int(existing)
    document = Document(
        document_number=document_number,
        source="pi",
        title=TITLE,
        first_seen_at=FILED_AT,
        filed_at=FILED_AT,
        is_entity_list=True,
    )
    session.add(document)
    session.flush()
    event = EventRow(
        document_id=document.id,
        announced_at=FILED_AT,
        announced_source=AnnouncementSource.PI_FILED_AT.value,
        title=TITLE,
    )
    session.add(event)
    session.flush()
    return int(event.id)


def entities(count: int = 28) -> tuple[EntityLine, ...]:
    named = [EntityLine(name=name, country="China") for name, *_ in COMPANIES]
    bureaus = [
        EntityLine(name=f"Xinjiang Uighur Autonomous Region Public Security Bureau No. {i}", country="China")
        for i in range(1, max(0, count - len(named)) + 1)
    ]
    return tuple([*named, *bureaus][:count])


def securities(count: int = 8) -> tuple[MatchedSecurity, ...]:
    direct = [
        MatchedSecurity(
            symbol=symbol,
            issuer=name,
            exchange_mic=mic,
            relation=Relation.DIRECT,
            score=0.98,
            reason=f"entity name '{name}' = issuer alias '{alias}'",
            entity_name=name,
            currency=currency,
            last_price=last,
            last_price_at=datetime(2019, 10, 8, 7, 0, tzinfo=UTC),
            reference_price=round(last / (1 + move), 2),
            move=move,
        )
        for name, symbol, alias, mic, currency, last, move in COMPANIES
    ]
    suppliers = [
        MatchedSecurity(
            symbol=symbol,
            issuer=issuer,
            exchange_mic="XNAS",
            relation=Relation.SUPPLIER,
            score=0.85,
            confirmed=False,
            reason=f"{issuer} supplies {entity} (exposure seed)",
            entity_name=entity,
            currency="USD",
            last_price=last,
            last_price_at=datetime(2019, 10, 7, 23, 55, tzinfo=UTC),
            reference_price=round(last / (1 + move), 2),
            move=move,
            extended_hours=True,
        )
        for symbol, issuer, entity, last, move in SUPPLIERS
    ]
    pool = [*direct, *suppliers]
    extra = [
        pool[i % len(pool)].model_copy(update={"symbol": f"X{i:04d}.SZ", "issuer": f"Filler Co. {i}"})
        for i in range(max(0, count - len(pool)))
    ]
    return tuple([*pool, *extra][:count])


def detected(event_id: int, *, n_entities: int = 28, n_securities: int = 8, **changes: object) -> DetectedAlert:
    alert = DetectedAlert(
        event_id=event_id,
        document_number="2019-22210",
        title=TITLE,
        action="Final rule.",
        filed_by=("Industry and Security Bureau",),
        filed_at=FILED_AT,
        filing_type="special",
        announced_at=FILED_AT,
        announced_source=AnnouncementSource.PI_FILED_AT,
        publication_date=date(2019, 10, 9),
        effective_on=date(2019, 10, 9),
        entities=entities(n_entities),
        securities=securities(n_securities),
        federal_register_url=FR_URL,
        public_inspection_pdf_url=PI_URL,
    )
    return alert.model_copy(update=changes) if changes else alert


STAGE_DAYS = {AlertStage.DAY0: 0, AlertStage.DAY1: 1, AlertStage.DAY5: 5, AlertStage.WINDOW_CLOSED: 5}


def follow_up(event_id: int, stage: AlertStage = AlertStage.DAY1, *, n_securities: int = 8) -> FollowUpAlert:
    last = STAGE_DAYS[stage]
    lines = []
    for number, security in enumerate(securities(n_securities)):
        car = (security.move or 0.0) * (1 + 0.1 * last)
        lines.append(
            StudyLine(
                symbol=security.symbol,
                issuer=security.issuer,
                exchange_mic=security.exchange_mic,
                relation=security.relation,
                score=security.score,
                entity_name=security.entity_name,
                status=StudyStatus.PARTIAL if stage != AlertStage.WINDOW_CLOSED else StudyStatus.COMPLETE,
                day0=date(2019, 10, 8),
                through=date(2019, 10, 8 + last),
                rel_day=last,
                ar=car / (last + 1),
                car=car,
                car_t=car / 0.02,
                halted=number == 3 and stage == AlertStage.DAY0,
            )
        )
    path = ChartSeries(
        label="all (CAAR)",
        points=tuple(PathPoint(rel_day=d, ar=-0.01 * (d >= 0), car=-0.01 * max(0, d + 1)) for d in range(-5, last + 1)),
    )
    per_symbol = ChartSeries(
        label="002415.SZ",
        points=tuple(PathPoint(rel_day=d, ar=-0.05 / (d + 1), car=-0.099 * (1 + 0.1 * d)) for d in range(0, last + 1)),
    )
    return FollowUpAlert(
        stage=stage,
        event_id=event_id,
        document_number="2019-22210",
        title=TITLE,
        announced_at=FILED_AT,
        car_window=(0, last),
        securities=tuple(lines),
        headlines=(
            Headline(
                group="all",
                n=len(lines),
                caar=-0.031,
                window=(0, last),
                tests=(
                    TestStat(name="BMP t", statistic=-3.01, p_value=0.003),
                    TestStat(name="Corrado rank", statistic=-2.2),
                ),
            ),
        ),
        paths=(path, per_symbol),
        federal_register_url=FR_URL,
    )
