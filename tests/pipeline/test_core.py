"""The pipeline on the October 2019 rule: saved Federal Register responses, the real prices (2016-2020, the years
its studies read: `tests.recent_prices`), a simulated clock.

One story, told on SQLite and PostgreSQL: the published rule arrives on 2019-10-09, is dated by its
public-inspection filing (2019-10-07 16:15 ET, after the US close), matches the four listed targets and Ambarella,
and is followed as each exchange's sessions close, with Hikvision and Dahua halted until 10-10.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables import (
    AlertDelivery,
    AlertRow,
    DailyPrice,
    Document,
    EventRow,
    MatchRow,
    SecurityRow,
    Study,
    StudyDay,
)
from monitor.errors import PriceSourceUnavailable
from monitor.feeds.wiring import build_clients, build_poller
from monitor.models import AnnouncementSource, FeedName, ParseStatus
from monitor.outbox import DetectedAlert, EntityListReply, FollowUpAlert, ReconcileAlert, parse_alert
from monitor.pipeline import Pipeline, PipelineOptions
from monitor.pipeline.bars import SourceBars
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from tests.conftest import SHARED_DATA, event_by_number
from tests.recent_prices import recent_prices

RULE_DIR = SHARED_DATA / "feeds" / "entity_list_2019-22210"
TARGETS = {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Story:
    def __init__(self, sessions: sessionmaker[Session], tmp_path: Path, start: datetime, **options: object) -> None:
        self.settings = Settings(
            data_dir=tmp_path, prices={"source": f"dir:{recent_prices()}"}, study={"placebo_draws": 40}
        )
        self.sessions = sessions
        self.clock = SimulatedClock(start)
        clients = build_clients(self.settings, source=f"dir:{RULE_DIR}", clock=self.clock, sleep=lambda _: None)
        self.poller = build_poller(self.settings, sessions, self.clock, clients)
        self.pipeline = Pipeline(
            sessions,
            self.settings,
            self.clock,
            calendars=calendars_from_settings(self.settings),
            price_source=CsvDirectorySource(recent_prices()),
            options=PipelineOptions(**options),  # type: ignore[arg-type]
        )

    def poll(self, feed: FeedName) -> list[object]:
        return list(self.pipeline.handle(self.poller.poll(feed).arrivals))

    def advance(self, when: datetime) -> tuple[str, ...]:
        self.clock.set(when)
        self.pipeline.refresh_prices()
        return self.pipeline.update_studies().follow_ups

    def alerts(self) -> dict[str, object]:
        with self.sessions() as session:
            return {row.dedup_key: parse_alert(row.payload) for row in session.scalars(select(AlertRow))}


def test_october_2019_rule_end_to_end(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    outcomes = story.poll(FeedName.DOCUMENTS)
    main = next(o for o in outcomes if o.document_number == "2019-22210")  # type: ignore[attr-defined]
    assert main.parse_status is ParseStatus.PARSED
    assert main.announced_at == at("2019-10-07T20:15:00")  # the filing time from the PI PDF epoch
    assert TARGETS | {"AMBA"} <= set(main.confirmed)
    event = event_by_number(sessions, "2019-22210")
    assert event.announced_source == AnnouncementSource.PI_FILED_AT.value
    assert event.alerts_enabled

    card = story.alerts()[f"event:{event.id}:g:all:detected"]
    assert isinstance(card, DetectedAlert)
    assert len(card.entities) == 28
    shown = {line.symbol: line for line in card.securities}
    assert TARGETS | {"AMBA"} <= set(shown)
    assert shown["AMBA"].relation.value == "supplier"
    assert shown["002415.SZ"].relation.value == "direct"
    assert shown["002415.SZ"].last_price == pytest.approx(32.30)  # halted since 09-30: the last close stands
    assert card.securities[0].relation.value == "direct"  # targets first
    bureaus = [e.name for e in card.entities if "Public Security Bureau" in e.name]
    assert len(bureaus) == 19
    with sessions() as session:
        matched_entities = session.scalars(select(MatchRow.reason)).all()
    assert not any("Public Security Bureau" in reason for reason in matched_entities)

    with sessions() as session:
        days0 = dict(session.execute(select(Study.symbol, Study.day0).where(Study.event_id == event.id)).all())
    assert days0["AMBA"] == days0["002415.SZ"] == date(2019, 10, 8)

    # 10-10 08:00 UTC: 10-08 and 10-09 have closed in Shenzhen and New York.
    queued = set(story.advance(at("2019-10-10T08:00:00")))
    assert {f"event:{event.id}:g:XSHG:day0", f"event:{event.id}:g:XNYS:day0"} <= queued
    assert {f"event:{event.id}:g:XSHG:day1", f"event:{event.id}:g:XNYS:day1"} <= queued
    day0 = story.alerts()[f"event:{event.id}:g:XNYS:day0"]
    assert isinstance(day0, FollowUpAlert)
    amba = next(line for line in day0.securities if line.symbol == "AMBA")
    assert amba.ar is not None
    assert amba.ar < -0.05
    shenzhen = story.alerts()[f"event:{event.id}:g:XSHG:day0"]
    assert isinstance(shenzhen, FollowUpAlert)
    hikvision = next(line for line in shenzhen.securities if line.symbol == "002415.SZ")
    assert hikvision.halted
    assert hikvision.ar is None  # a halt is never a zero abnormal return

    story.advance(at("2019-10-23T00:00:00"))
    keys = set(story.alerts())
    for calendar in ("XSHG", "XNYS"):
        assert f"event:{event.id}:g:{calendar}:window_closed" in keys
    with sessions() as session:
        studies = {s.symbol: s for s in session.scalars(select(Study).where(Study.event_id == event.id))}
        hik_days = session.scalars(
            select(StudyDay).where(StudyDay.study_id == studies["002415.SZ"].id).order_by(StudyDay.rel_day)
        ).all()
    assert studies["AMBA"].status == "complete"
    assert studies["002415.SZ"].day0_halted
    assert studies["002415.SZ"].reaction_date == date(2019, 10, 10)
    reaction = next(day for day in hik_days if day.date == date(2019, 10, 10))
    assert reaction.sessions == 3
    assert reaction.ret == pytest.approx(30.90 / 32.30 - 1, abs=1e-4)


def test_running_everything_twice_changes_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    story.poll(FeedName.DOCUMENTS)
    story.advance(at("2019-10-12T00:00:00"))

    def counts() -> tuple[int, ...]:
        with sessions() as session:
            return tuple(
                session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (EventRow, MatchRow, Study, StudyDay, AlertRow, AlertDelivery)
            )

    before = counts()
    event = event_by_number(sessions, "2019-22210")
    assert story.pipeline.document_arrived(event.document_id) is not None
    assert story.pipeline.update_studies().follow_ups == ()
    assert counts() == before


def test_no_look_ahead(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """Every bar of 2019 is on disk, but at 21:00 UTC on 10-08 the study sees New York only through 10-08."""
    story = Story(sessions, tmp_path, at("2019-10-08T21:00:00"), overrides={"2019-22210": at("2019-10-07T20:15:00")})
    story.poll(FeedName.DOCUMENTS)
    story.advance(at("2019-10-08T21:00:00"))
    with sessions() as session:
        amba = session.scalars(select(Study).where(Study.symbol == "AMBA")).one()
        dates = session.scalars(select(StudyDay.date).where(StudyDay.study_id == amba.id)).all()
    assert amba.status == "partial"
    assert max(dates) == date(2019, 10, 8)


def test_a_rule_first_seen_months_later_is_recorded_not_alerted(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    story.poll(FeedName.DOCUMENTS)
    june = event_by_number(sessions, "2019-13245")
    assert not june.alerts_enabled
    assert not [key for key in story.alerts() if key.startswith(f"event:{june.id}:")]


def test_backfill_options_record_without_alerting(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"), alerts=False, backfill=True)
    story.poll(FeedName.DOCUMENTS)
    story.advance(at("2019-10-23T00:00:00"))
    event = event_by_number(sessions, "2019-22210")
    assert event.is_backfill
    assert story.alerts() == {}
    with sessions() as session:
        assert session.scalars(select(Study.status).where(Study.symbol == "AMBA")).one() == "complete"


def test_a_filing_then_its_publication_gives_a_card_and_one_reconcile_reply(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Public inspection first (no text to extract yet), then the published XML: one reconcile reply names what the
    published rule adds, the card's stored payload becomes the published facts, and polling again adds nothing."""
    story = Story(sessions, tmp_path, at("2019-10-07T20:20:00"))
    story.clock.set(at("2019-10-07T20:20:00"))
    arrivals = story.poller.poll_public_inspection(since=date(2019, 10, 7)).arrivals
    first = story.pipeline.handle(arrivals)
    assert [o.parse_status for o in first] == [ParseStatus.PENDING]
    story.clock.set(at("2019-10-09T12:00:00"))
    story.poll(FeedName.DOCUMENTS)
    story.poll(FeedName.DOCUMENTS)  # a second pass (a restart, another replica) writes nothing more
    event = event_by_number(sessions, "2019-22210")
    cards = {key: alert for key, alert in story.alerts().items() if key.startswith(f"event:{event.id}:")}
    assert set(cards) == {
        f"event:{event.id}:g:all:detected",
        f"event:{event.id}:g:all:reconciled",
        f"event:{event.id}:g:all:entities",  # the card now counts entities: their full list follows, once
    }
    listed = cards[f"event:{event.id}:g:all:entities"]
    assert isinstance(listed, EntityListReply)
    card, reply = cards[f"event:{event.id}:g:all:detected"], cards[f"event:{event.id}:g:all:reconciled"]
    assert isinstance(card, DetectedAlert)
    assert isinstance(reply, ReconcileAlert)
    expected = json.loads((RULE_DIR / "expected_entities.json").read_text())
    names = {entry["name"] for entry in expected["entities"]}
    assert card.based_on == "published"  # the stored card now holds the published facts
    assert {e.name for e in card.entities} == names
    assert {line.symbol for line in card.securities} >= TARGETS
    assert reply.card == card
    assert listed.entities == card.entities
    assert {e.name for e in reply.entities_added} == names
    assert {line.symbol for line in reply.securities_added} >= TARGETS
    assert not reply.entities_removed
    assert not reply.securities_removed
    assert event.announced_at == at("2019-10-07T20:15:00")


def test_an_unparseable_rule_still_alerts_with_title_and_link(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    story = Story(sessions, tmp_path, at("2019-10-08T14:00:00"))
    with sessions.begin() as session:
        document = Document(
            document_number="2019-99999",
            source="pi",
            title="Addition of Certain Entities to the Entity List",
            agencies=["industry-and-security-bureau"],
            filed_at=at("2019-10-08T12:45:00"),
            first_seen_at=at("2019-10-08T12:46:00"),
            pi_seen_at=at("2019-10-08T12:46:00"),
            is_entity_list=True,
            parse_status=ParseStatus.FAILED.value,
            parse_error="XML: not well-formed (line 3); text: no entity names found",
        )
        session.add(document)
        session.flush()
        document_id = document.id
    outcome = story.pipeline.document_arrived(document_id)
    assert outcome is not None
    card = story.alerts()[f"event:{outcome.event_id}:g:all:detected"]
    assert isinstance(card, DetectedAlert)
    assert card.parse_status is ParseStatus.FAILED
    assert card.parse_error is not None
    assert card.title == "Addition of Certain Entities to the Entity List"
    assert card.public_inspection_pdf_url == "https://public-inspection.federalregister.gov/2019-99999.pdf"
    assert card.filed_by == ("Bureau of Industry and Security",)


def test_matches_are_stored_against_the_seeded_universe(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """The first rule into an empty database seeds the universe for good, so its matches are stored."""
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    story.poll(FeedName.DOCUMENTS)
    with sessions() as session:
        stored = dict(
            session.execute(
                select(SecurityRow.symbol, MatchRow.relation).join(MatchRow, MatchRow.security_id == SecurityRow.id)
            ).all()
        )
    assert set(stored) >= TARGETS
    assert stored["AMBA"] == "supplier"
    assert stored["002415.SZ"] == "direct"


def test_an_injected_bar_reader_still_sees_no_future_bar(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """The backfill hands the pipeline its own bar reader (files here, no store, no fetch): FinalBars still hides
    every bar that was not final at the clock's now."""
    settings = Settings(data_dir=tmp_path, study={"placebo_draws": 40})
    clock = SimulatedClock(at("2019-10-09T12:00:00"))
    clients = build_clients(settings, source=f"dir:{RULE_DIR}", clock=clock, sleep=lambda _: None)
    poller = build_poller(settings, sessions, clock, clients)
    pipeline = Pipeline(
        sessions,
        settings,
        clock,
        calendars=calendars_from_settings(settings),
        price_source=None,
        options=PipelineOptions(alerts=False, backfill=True),
        bars=SourceBars(CsvDirectorySource(recent_prices())),
    )
    pipeline.handle(poller.poll(FeedName.DOCUMENTS).arrivals)
    clock.set(at("2019-10-09T21:00:00"))
    pipeline.update_studies()
    with sessions() as session:
        amba = session.scalars(select(Study).where(Study.symbol == "AMBA")).one()
        dates = session.scalars(select(StudyDay.date).where(StudyDay.study_id == amba.id)).all()
        stored = session.scalar(select(func.count()).select_from(DailyPrice))
    assert amba.status == "partial"
    assert max(dates) == date(2019, 10, 9)
    assert stored == 0  # nothing was fetched into the store: the reader was the only source


def test_two_workers_on_one_document_make_one_event(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """A replica's poll and the daemon's catch-up may process the same new rule at once: one event, no error."""
    import threading

    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    story.poller.poll(FeedName.DOCUMENTS)  # stored; the pipeline has not run yet
    with sessions() as session:
        document = session.scalars(select(Document).where(Document.document_number == "2019-22210")).one()
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def other_worker() -> None:
        try:
            outcomes.append(story.pipeline.document_arrived(document.id))
        except BaseException as exc:  # reported below
            errors.append(exc)

    with sessions.begin() as session:  # the first worker's transaction, still open when the second one inserts
        session.add(
            EventRow(
                document_id=document.id,
                announced_at=at("2019-10-07T20:15:00"),
                announced_source=AnnouncementSource.PI_FILED_AT.value,
                title=document.title,
                created_at=at("2019-10-09T12:00:00"),
            )
        )
        session.flush()
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(0.5)  # PostgreSQL: blocked on the conflicting insert; SQLite: waiting for the write lock
    thread.join(30)
    assert errors == []
    (outcome,) = outcomes
    assert outcome is not None
    assert not outcome.event_created  # type: ignore[attr-defined]
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(EventRow)).scalar_one() == 1


class _OutageSource:
    """The real prices behind a switch: down until told otherwise (an outage over day 0)."""

    def __init__(self) -> None:
        self.inner = CsvDirectorySource(recent_prices())
        self.name = self.inner.name
        self.down = True

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> object:
        if self.down:
            raise PriceSourceUnavailable(f"{symbol}: price source unreachable", symbol=symbol)
        return self.inner.history(symbol, start, end)


def test_a_price_outage_over_day0_is_retried_when_prices_return(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Before: a study that found no prices at its first update stayed insufficient_data for good."""
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    outage = _OutageSource()
    story.pipeline.price_source = outage  # type: ignore[assignment]
    story.poll(FeedName.DOCUMENTS)
    story.advance(at("2019-10-10T08:00:00"))
    with sessions() as session:
        assert session.scalars(select(Study.status).where(Study.symbol == "AMBA")).one() == "insufficient_data"
    outage.down = False
    story.advance(at("2019-10-23T00:00:00"))
    event = event_by_number(sessions, "2019-22210")
    with sessions() as session:
        assert session.scalars(select(Study.status).where(Study.symbol == "AMBA")).one() == "complete"
    assert f"event:{event.id}:g:XNYS:window_closed" in story.alerts()


def test_follow_ups_report_one_exchange_and_one_window(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """Issue 15: the Shanghai-close CAAR[0,+1] showed the US day-0 number, two "window closed" cards disagreed
    on "all", and no follow-up said which exchange had closed."""
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    story.poll(FeedName.DOCUMENTS)
    event = event_by_number(sessions, "2019-22210")
    story.advance(at("2019-10-10T00:00:00"))  # both markets closed day +1 (10-09)
    shanghai = story.alerts()[f"event:{event.id}:g:XSHG:day1"]
    assert isinstance(shanghai, FollowUpAlert)
    assert (shanghai.exchange, shanghai.exchange_name, shanghai.session) == (
        "XSHG",
        "Shanghai/Shenzhen",
        date(2019, 10, 9),
    )
    assert shanghai.closed_at is not None
    assert shanghai.closed_at.utcoffset() is not None
    assert (shanghai.closed_at.hour, shanghai.closed_at.minute) == (15, 0)  # local Shanghai time
    assert shanghai.time_zone == "Asia/Shanghai"
    assert shanghai.n_matched == len(shanghai.securities) == 4
    assert {line.symbol for line in shanghai.securities} == TARGETS
    # Hikvision and Dahua are halted through 10-09: only 002230 and 300188 have a complete [0,+1].
    assert shanghai.n_complete == 2
    lead = shanghai.headlines[0]
    assert lead.group == "Shanghai/Shenzhen: all"
    assert lead.window == (0, 1)
    assert (lead.n, lead.n_matched) == (2, 4)
    complete = [line.car for line in shanghai.securities if line.symbol in {"002230.SZ", "300188.SZ"}]
    assert lead.caar == pytest.approx(sum(c for c in complete if c is not None) / 2, abs=1e-12)
    assert all(p.rel_day in (0, 1) for series in shanghai.paths for p in series.points)

    story.advance(at("2019-10-15T08:00:00"))  # Shanghai's window (day +5, 10-15) closed; New York's has not
    story.advance(at("2019-10-23T00:00:00"))
    alerts = story.alerts()
    first = alerts[f"event:{event.id}:g:XSHG:window_closed"]
    last = alerts[f"event:{event.id}:g:XNYS:window_closed"]
    assert isinstance(first, FollowUpAlert)
    assert isinstance(last, FollowUpAlert)
    assert all(h.group.startswith("Shanghai/Shenzhen: ") for h in first.headlines)
    assert all(h.group.startswith("New York: ") for h in last.headlines[:-1])
    pooled = last.headlines[-1]
    assert pooled.group == "all exchanges"
    with sessions() as session:
        matched = session.scalar(select(func.count()).select_from(Study).where(Study.event_id == event.id))
    assert pooled.n_matched == matched
    said: dict[str, float | None] = {}
    for card in (first, last):
        for headline in card.headlines:
            assert said.setdefault(headline.group, headline.caar) == headline.caar


def test_studies_are_opened_in_one_insert_with_each_exchanges_day0(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """No ORM object per study (a backfill opens tens of thousands); day 0 on each security's own exchange."""
    from sqlalchemy import event as orm_events

    flushed: list[str] = []

    def counted(mapper: object, connection: object, target: Study) -> None:
        flushed.append(target.symbol)

    orm_events.listen(Study, "before_insert", counted)
    try:
        story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"), alerts=False, backfill=True)
        story.poll(FeedName.DOCUMENTS)
    finally:
        orm_events.remove(Study, "before_insert", counted)
    assert flushed == []
    event = event_by_number(sessions, "2019-22210")
    with sessions() as session:
        opened = dict(session.execute(select(Study.symbol, Study.day0).where(Study.event_id == event.id)).all())
    assert TARGETS | {"AMBA"} <= set(opened)
    # Filed 2019-10-07 16:15 ET: after the New York close, so 10-08 there; Shenzhen was closed for Golden Week
    # until 10-08.
    assert {opened[symbol] for symbol in TARGETS | {"AMBA"}} == {date(2019, 10, 8)}
    with sessions() as session:
        statuses = set(session.scalars(select(Study.status).where(Study.event_id == event.id)))
    assert statuses <= {"pending", "listed_later"}  # opened, not studied yet (SenseTime was listed in 2021)
