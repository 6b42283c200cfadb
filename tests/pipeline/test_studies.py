"""The study runner on the real prices in ../shared/data/prices, and its storage on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import SimulatedClock
from monitor.db.tables.documents import Document, EventRow
from monitor.db.tables.studies import EventStatistic, Study, StudyDay
from monitor.errors import InputError
from monitor.pipeline.bars import SourceBars, StoreBars
from monitor.pipeline.studies import EventTime, Subject, prepare, run
from monitor.pipeline.study_rows import load, save
from monitor.prices.calendars import shared_calendars
from monitor.prices.returns import returns_panel
from monitor.prices.sources import CsvDirectorySource, StaticSource
from monitor.prices.store import PriceStore
from monitor.study import StudyParams
from tests.conftest import SHARED_DATA

PRICES = SHARED_DATA / "prices"
AFTER_CLOSE = EventTime.parse("2019-10-07T20:30:00Z")  # the October 2019 rule, after the US close
PARAMS = StudyParams()


def csv_close(symbol: str, day: str, column: str = "close") -> float:
    """Straight from the file, independently of the price module."""
    frame = pd.read_csv(PRICES / f"{symbol}.csv", index_col="date")
    return float(frame.loc[day, column])


@pytest.fixture(scope="module")
def october() -> object:
    subjects = [Subject("AMBA", relation="supplier"), Subject("002415.SZ", relation="direct"), Subject("NVDA")]
    return run(subjects, AFTER_CLOSE, PARAMS.with_(placebo_draws=100), SourceBars(CsvDirectorySource(PRICES)),
               shared_calendars())  # fmt: skip


def test_amba_day0_reaction(october) -> None:
    amba = october.result.security("AMBA")
    assert (amba.benchmark, amba.day0, amba.status) == ("^GSPC", date(2019, 10, 8), "complete")
    day0 = next(d for d in amba.days if d.rel_day == 0)
    assert day0.date == date(2019, 10, 8)
    assert day0.ret == pytest.approx(51.79 / 57.22 - 1, abs=5e-4)  # adjusted closes; no dividend in between
    assert day0.ar < -0.05
    assert day0.ar_t < -2.5
    # The window's CAR is far more negative than the day-0 move (AMBA slid all week), yet less significant.
    assert amba.car < day0.ar - 0.05
    assert abs(amba.car_t) < abs(day0.ar_t)
    assert amba.sub_windows["[0,0]"].car == pytest.approx(day0.ar)
    assert amba.n_estimation == 250


def test_hikvision_window_return_is_trade_to_trade_over_the_halt(october) -> None:
    hik = october.result.security("002415.SZ")
    assert (hik.benchmark, hik.day0, hik.day0_halted, hik.reaction_date) == (
        "000300.SS",
        date(2019, 10, 8),
        True,
        date(2019, 10, 10),
    )
    days = {d.rel_day: d for d in hik.days}
    assert days[0].halted
    assert days[1].halted
    assert days[0].ar is None
    assert days[1].ar is None
    resumed = days[2]
    assert resumed.date == date(2019, 10, 10)
    assert resumed.sessions == 3  # 10-08, 10-09 (halted) and 10-10: Golden Week holidays are not sessions
    assert resumed.ret == pytest.approx(csv_close("002415.SZ", "2019-10-10") / csv_close("002415.SZ", "2019-09-30") - 1)
    assert resumed.ret == pytest.approx(-0.0433, abs=5e-5)
    bench = csv_close("000300.SS", "2019-10-10") / csv_close("000300.SS", "2019-09-30") - 1
    assert resumed.benchmark_return == pytest.approx(bench)
    assert hik.sub_windows["[0,0]"].car == pytest.approx(resumed.ar)
    assert (hik.sub_windows["[0,0]"].first, hik.sub_windows["[0,0]"].last) == (0, 2)
    aar0 = next(d for d in october.result.aggregate.aar if d.rel_day == 0)
    assert aar0.n == 2  # Hikvision sits out day 0's cross-section


def test_groups_by_relation(october) -> None:
    assert set(october.groups) == {"all", "direct", "supplier"}
    assert october.groups["supplier"].n == 1
    assert october.groups["supplier"].caar == pytest.approx(october.result.security("AMBA").car)
    assert october.to_dict()["securities"][0]["relation"] == "supplier"
    assert october.result.aggregate.placebo.draws == 100


def test_engine_inputs_match_the_price_modules_returns() -> None:
    bars = SourceBars(CsvDirectorySource(PRICES))
    series, stubs = prepare([Subject("AMBA"), Subject("002236.SZ")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    assert stubs == {}
    for s in series:
        sessions = pd.DatetimeIndex(s.sessions.astype("datetime64[ns]"))
        frame = bars.bars_many([s.symbol], None, None)[s.symbol]
        panel = returns_panel({s.symbol: frame}, sessions)
        ours = np.isfinite(s.returns)
        theirs = np.isfinite(panel.returns[:, 0])
        assert (ours == theirs).all()  # the benchmarks have every session: nothing else is lumped
        np.testing.assert_allclose(s.returns[ours], panel.returns[theirs, 0], rtol=1e-12)
        np.testing.assert_array_equal(s.spans[ours], panel.spans[theirs, 0])


def test_a_bare_date_means_before_that_days_open() -> None:
    calendars = shared_calendars()
    assert EventTime.parse("2019-10-08").day0(calendars, "XNYS") == date(2019, 10, 8)
    assert EventTime.parse("2019-10-08").day0(calendars, "XSHG") == date(2019, 10, 8)
    assert EventTime.parse("2019-10-05").day0(calendars, "XSHG") == date(2019, 10, 8)  # Golden Week
    assert EventTime.parse("2019-10-07").day0(calendars, "XHKG") == date(2019, 10, 8)  # Chung Yeung
    assert AFTER_CLOSE.day0(calendars, "XNYS") == date(2019, 10, 8)
    assert EventTime.parse("2019-10-07T19:00:00Z").day0(calendars, "XNYS") == date(2019, 10, 7)  # intraday


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019-10-07T20:30:00", "add a UTC offset"),
        ("yesterday", "expected ISO 8601"),
    ],
)
def test_event_time_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        EventTime.parse(text)


def test_one_bad_security_never_stops_the_others() -> None:
    subjects = [Subject("AMBA"), Subject("NOPE"), Subject("A B"), Subject("0981.HK", benchmark="^NOPE")]
    result = run(subjects, AFTER_CLOSE, PARAMS, SourceBars(CsvDirectorySource(PRICES)), shared_calendars())
    by = {s.symbol: s for s in result.result.securities}
    assert by["AMBA"].status == "complete"
    assert by["NOPE"].status == "insufficient_data"
    assert by["NOPE"].reason.startswith("NOPE: no file NOPE.csv")
    assert by["A B"].status == "error"
    assert "expected a Yahoo-style symbol" in by["A B"].reason
    assert by["0981.HK"].status == "insufficient_data"
    assert "^NOPE" in by["0981.HK"].reason
    assert result.result.aggregate.n == 1


def test_a_date_past_the_calendar_leaves_the_study_pending() -> None:
    when = EventTime.parse("2028-03-01T02:00:00Z")  # past the provisional 2027 extension of XSHG
    result = run([Subject("002415.SZ")], when, PARAMS, SourceBars(CsvDirectorySource(PRICES)), shared_calendars())
    [hik] = result.result.securities
    assert hik.status == "pending"
    assert "calendar XSHG does not cover" in hik.reason


def test_after_the_data_ends_the_study_waits() -> None:
    when = EventTime.parse("2024-03-08T22:00:00Z")  # AMBA's file ends on 2024-03-08; day 0 is 03-11
    result = run([Subject("AMBA", benchmark="SPY")], when, PARAMS, SourceBars(CsvDirectorySource(PRICES)),
                 shared_calendars())  # fmt: skip
    [amba] = result.result.securities
    assert amba.status == "pending"
    assert amba.reason == "no prices yet for day 0 (2024-03-11)"


def test_store_bars_fetch_only_what_is_missing(sessions: sessionmaker[Session]) -> None:
    csv = CsvDirectorySource(PRICES)
    source = StaticSource({s: csv.history(s, date(2017, 1, 1), date(2020, 6, 30)) for s in ("AMBA", "^GSPC")})
    clock = SimulatedClock(datetime(2020, 7, 1, tzinfo=UTC))
    store = PriceStore(sessions, shared_calendars(), clock=clock)
    bars = StoreBars(store, source, clock=clock)
    first = run([Subject("AMBA")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    assert {call[0] for call in source.calls} == {"AMBA", "^GSPC"}
    calls = len(source.calls)
    second = run([Subject("AMBA")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    assert len(source.calls) == calls  # everything needed is stored now
    assert second.result.security("AMBA").car == pytest.approx(first.result.security("AMBA").car)
    direct = run([Subject("AMBA")], AFTER_CLOSE, PARAMS, SourceBars(csv), shared_calendars())
    assert first.result.security("AMBA").car == pytest.approx(direct.result.security("AMBA").car, rel=1e-12)


def _event(session: Session) -> int:
    moment = datetime(2019, 10, 7, 20, 30, tzinfo=UTC)
    document = Document(document_number="2019-22210", source="fr", title="Entity List additions", first_seen_at=moment)
    session.add(document)
    session.flush()
    event = EventRow(document_id=document.id, announced_at=moment, announced_source="pi_filed_at", title="x")
    session.add(event)
    session.flush()
    return event.id


def test_save_and_load_round_trip_idempotently(sessions: sessionmaker[Session], october) -> None:
    computed = datetime(2019, 10, 16, 1, 0, tzinfo=UTC)
    with sessions.begin() as session:
        event_id = _event(session)
        ids = save(session, event_id, october, computed_at=computed)
    assert set(ids) == {"AMBA", "002415.SZ", "NVDA"}
    with sessions.begin() as session:
        save(session, event_id, october, computed_at=computed)  # a rerun updates in place
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Study)) == 3
        assert session.scalar(select(func.count()).select_from(StudyDay)) == 33
        assert session.scalar(select(func.count()).select_from(EventStatistic)) == 3
        stored = load(session, event_id)
        assert load(session, event_id + 1) is None
    fresh = october.to_dict()
    assert stored["event_time"] == "2019-10-07T20:30:00Z"
    assert (stored["model"], stored["estimation"], stored["gap"], stored["window"]) == ("market", 250, 10, [-5, 5])
    for ours, theirs in zip(stored["securities"], fresh["securities"], strict=True):
        for key in ("symbol", "relation", "benchmark", "day0", "status", "car", "car_t", "car_p", "bhar",
                    "day0_halted", "reaction_date", "through_date", "sub_windows", "n_estimation", "beta"):  # fmt: skip
            assert ours[key] == theirs[key], key
        assert ours["days"] == [{k: d[k] for k in ours["days"][0]} for d in theirs["days"]]
    assert stored["aggregate"]["caar"] == pytest.approx(fresh["aggregate"]["caar"])
    assert stored["aggregate"]["tests"]["kp_bmp_t"] == pytest.approx(fresh["aggregate"]["tests"]["kp_bmp_t"])
    assert stored["aggregate"]["tests"]["sub_windows"]["[0,0]"]["n"] == 3
    assert set(stored["groups"]) == {"direct", "supplier"}
    hik = next(s for s in stored["securities"] if s["symbol"] == "002415.SZ")
    assert [d["halted"] for d in hik["days"]][5:7] == [True, True]
    assert hik["days"][5]["ar"] is None


def test_store_bars_report_a_symbol_the_source_lacks(sessions: sessionmaker[Session]) -> None:
    csv = CsvDirectorySource(PRICES)
    source = StaticSource({s: csv.history(s, date(2017, 1, 1), date(2020, 6, 30)) for s in ("AMBA", "^GSPC")})
    clock = SimulatedClock(datetime(2020, 7, 1, tzinfo=UTC))
    bars = StoreBars(PriceStore(sessions, shared_calendars(), clock=clock), source, clock=clock)
    result = run([Subject("AMBA"), Subject("NVDA")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    nvda = result.result.security("NVDA")
    assert nvda.status == "insufficient_data"
    assert nvda.reason == "NVDA: not in static"
    assert result.result.security("AMBA").status == "complete"


def test_store_bars_do_not_refetch_a_short_history_or_a_recent_no(sessions: sessionmaker[Session]) -> None:
    """A listing younger than the estimation window, and a symbol the source lacks, are asked for once.

    Before: every study update re-fetched such a symbol in full (and re-asked for the missing one), which on a
    rate-limited source like Yahoo costs a request per symbol every few minutes.
    """
    csv = CsvDirectorySource(PRICES)
    young = csv.history("AMBA", date(2019, 6, 3), date(2020, 6, 30))  # as if AMBA had listed in June 2019
    source = StaticSource({"AMBA": young, "^GSPC": csv.history("^GSPC", date(2017, 1, 1), date(2020, 6, 30))})
    clock = SimulatedClock(datetime(2020, 7, 1, tzinfo=UTC))
    bars = StoreBars(PriceStore(sessions, shared_calendars(), clock=clock), source, clock=clock)
    run([Subject("AMBA"), Subject("NVDA")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    asked = len(source.calls)
    assert {call[0] for call in source.calls} == {"AMBA", "^GSPC", "NVDA"}
    again = run([Subject("AMBA"), Subject("NVDA")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    assert len(source.calls) == asked
    assert again.result.security("AMBA").status == "insufficient_data"  # 88 sessions: too few, honestly reported
    clock.set(datetime(2020, 7, 1, 7, 0, tzinfo=UTC))  # a "no" is asked again after six hours
    run([Subject("NVDA")], AFTER_CLOSE, PARAMS, bars, shared_calendars())
    assert [call[0] for call in source.calls[asked:]] == ["NVDA"]


def test_listing_dates_from_the_universe_decide_listed_later_and_delisted() -> None:
    """SenseTime (0020.HK) first traded on 2021-12-30 (HKEX listing announcement), so it cannot react to the
    October 2019 rule: ``listed_later``, not missing data (``insufficient_data``, retried) nor ``pending``. Its
    real price file starts in December 2021. A listing the universe says ended before day 0 is ``delisted``;
    neither enters the aggregate."""
    subjects = [
        Subject("0020.HK", listed_on=date(2021, 12, 30)),
        Subject("NVDA", delisted_on=date(2019, 9, 30)),  # a delisting date given by the universe, before day 0
        Subject("AMBA"),
    ]
    result = run(subjects, AFTER_CLOSE, PARAMS, SourceBars(CsvDirectorySource(PRICES)), shared_calendars())
    by = {s.symbol: s for s in result.result.securities}
    assert (by["0020.HK"].status, by["0020.HK"].day0) == ("listed_later", date(2019, 10, 8))
    assert by["0020.HK"].reason == "listed on 2021-12-30, after day 0 (2019-10-08): it could not react"
    assert (by["NVDA"].status, by["NVDA"].reason) == ("delisted", "delisted on 2019-09-30, before day 0 (2019-10-08)")
    assert by["AMBA"].status == "complete"
    assert result.result.aggregate.n == 1
    assert by["0020.HK"].car is None
    assert by["NVDA"].car is None


def test_an_earlier_event_window_of_the_same_security_stays_out_of_estimation() -> None:
    """A backfill holds many events per security: AMBA's window around an earlier event (day 0 2019-08-05, inside
    the October rule's estimation window) must not enter the October estimation. Expected α, β and n from the
    real files with plain pandas/numpy: the 250 sessions [−265, −16] of ^GSPC's trading days minus the 11 around
    2019-08-05."""
    amba = pd.read_csv(PRICES / "AMBA.csv", index_col="date", parse_dates=True)["adj_close"]
    gspc = pd.read_csv(PRICES / "^GSPC.csv", index_col="date", parse_dates=True)["adj_close"]
    days = gspc.loc["2018-01-01":"2019-12-31"].index
    r, m = amba.reindex(days).pct_change(), gspc.reindex(days).pct_change()
    day0 = days.get_loc(pd.Timestamp("2019-10-08"))
    earlier = days.get_loc(pd.Timestamp("2019-08-05"))
    rows = np.setdiff1d(np.arange(day0 - 265, day0 - 15), np.arange(earlier - 5, earlier + 6))
    beta, alpha = np.polyfit(m.iloc[rows].to_numpy(), r.iloc[rows].to_numpy(), 1)

    subjects = [Subject("AMBA", earlier_day0s=(date(2019, 8, 5), date(2019, 10, 8), date(2020, 1, 2)))]
    result = run(subjects, AFTER_CLOSE, PARAMS, SourceBars(CsvDirectorySource(PRICES)), shared_calendars())
    [study] = result.result.securities
    assert study.n_estimation == 250 - 11  # this event's own day 0 and a later one exclude nothing
    assert study.beta == pytest.approx(beta, rel=1e-9)
    assert study.alpha == pytest.approx(alpha, rel=1e-7, abs=1e-12)
    plain = run([Subject("AMBA")], AFTER_CLOSE, PARAMS, SourceBars(CsvDirectorySource(PRICES)), shared_calendars())
    assert plain.result.securities[0].n_estimation == 250


def test_study_meta_gives_each_subject_its_earlier_events_day0s(sessions: sessionmaker[Session]) -> None:
    """The stored studies of the same symbol for events announced earlier feed ``earlier_day0s``; later events,
    other symbols and studies without a day 0 do not."""
    from monitor.pipeline.facts import study_meta

    def event(number: str, moment: datetime, studies: dict[str, date | None]) -> int:
        document = Document(document_number=number, source="fr", title="Entity List", first_seen_at=moment)
        session.add(document)
        session.flush()
        row = EventRow(document_id=document.id, announced_at=moment, announced_source="published", title=number)
        session.add(row)
        session.flush()
        for symbol, day0 in studies.items():
            session.add(
                Study(event_id=row.id, symbol=symbol, benchmark="^GSPC", day0=day0, model="market", estimation=250,
                      gap=10, window_start=-5, window_end=5)
            )  # fmt: skip
        return row.id

    with sessions.begin() as session:
        event("2019-10616", datetime(2019, 5, 16, 2, 0, tzinfo=UTC), {"AMBA": date(2019, 5, 16), "NVDA": None})
        event("2019-17921", datetime(2019, 8, 14, 12, 0, tzinfo=UTC), {"AMBA": date(2019, 8, 14), "NPTN": None})
        october = event("2019-22210", datetime(2019, 10, 7, 20, 30, tzinfo=UTC), {"AMBA": None, "NVDA": None})
        event("2020-10503", datetime(2020, 5, 19, 12, 0, tzinfo=UTC), {"AMBA": date(2020, 5, 19)})
    with sessions() as session:
        subjects, _ = study_meta(session, october)
    by = {s.symbol: s for s in subjects}
    assert by["AMBA"].earlier_day0s == (date(2019, 5, 16), date(2019, 8, 14))
    assert by["NVDA"].earlier_day0s == ()


def test_day_statuses_survive_storage_into_json_csv_and_html(sessions: sessionmaker[Session]) -> None:
    """Before: only ``halted`` was stored, so a suspect return read back from the database looked traded. Inputs:
    the real AMBA file with a 4:1 split on 2019-10-09 it does not adjust for (day +1: a −75% return beyond any
    bound, suspect), and Hikvision's real halt over day 0 and +1 (2019-10-08/09)."""
    from monitor.report.csv_out import study_row
    from monitor.report.data import load_events
    from monitor.report.html_out import _security_rows

    raw = CsvDirectorySource(PRICES).history("AMBA").copy()
    raw.loc[:"2019-10-08", ["close", "adj_close"]] *= 4
    source = StaticSource({"AMBA": raw, **{s: CsvDirectorySource(PRICES).history(s) for s in
                                          ("^GSPC", "002415.SZ", "399001.SZ", "000300.SS")}})  # fmt: skip
    computed = run([Subject("AMBA"), Subject("002415.SZ")], AFTER_CLOSE, PARAMS, SourceBars(source),
                   shared_calendars())  # fmt: skip
    with sessions.begin() as session:
        event_id = _event(session)
        save(session, event_id, computed, computed_at=datetime(2019, 10, 16, tzinfo=UTC))
    with sessions() as session:
        stored = load(session, event_id)
        [event] = load_events(session, [event_id])
    for ours, theirs in zip(stored["securities"], computed.to_dict()["securities"], strict=True):
        assert [d["status"] for d in ours["days"]] == [d["status"] for d in theirs["days"] if d["date"] is not None]
    amba, hik = stored["securities"]
    assert amba["status"] == "bad_price"
    assert {d["rel_day"]: d["status"] for d in amba["days"]}[1] == "suspect"
    assert [d["status"] for d in hik["days"] if d["rel_day"] in (0, 1)] == ["halted", "halted"]
    by = {s.symbol: s for s in event.studies}
    assert "day +1 suspect" in by["AMBA"].flagged_days
    assert "day +0 halted; day +1 halted" in by["002415.SZ"].flagged_days
    rows = {row["symbol"]: row for row in (study_row(event, s, ["[0,0]"]) for s in event.studies)}
    assert rows["AMBA"]["flagged_days"] == by["AMBA"].flagged_days
    html = {cells[0]: cells[-1] for cells in _security_rows(event, ["[0,0]"])}
    assert "day +1 suspect" in html["<b>AMBA</b>"]
    assert "day +1 halted" in html["<b>002415.SZ</b>"]


def test_the_per_exchange_aggregates_are_computed_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only follow-up alerts read them: a backfill without alerts must not run the engine once more per exchange."""
    from monitor.pipeline import studies

    passes: list[list[str]] = []
    engine = studies.run_event

    def counted(series, params):  # type: ignore[no-untyped-def]
        passes.append(sorted(s.symbol for s in series))
        return engine(series, params)

    monkeypatch.setattr(studies, "run_event", counted)
    subjects = [Subject("AMBA", relation="supplier"), Subject("002415.SZ", relation="direct"), Subject("NVDA")]
    made = run(subjects, AFTER_CLOSE, PARAMS.with_(placebo_draws=0), SourceBars(CsvDirectorySource(PRICES)),
               shared_calendars())  # fmt: skip
    assert passes == [["002415.SZ", "AMBA", "NVDA"], ["002415.SZ"], ["AMBA"]]  # all, then each relation
    exchanges = made.exchanges
    assert passes[3:] == [["AMBA", "NVDA"], ["002415.SZ"]]  # New York, then the mainland, each on its own
    assert set(exchanges) == {"XNYS", "XSHG"}
    cars = {s.symbol: s.car for s in made.result.securities}
    assert exchanges["XNYS"]["all"].n == 2
    assert exchanges["XNYS"]["all"].caar == pytest.approx((cars["AMBA"] + cars["NVDA"]) / 2)
    assert exchanges["XSHG"]["all"].caar == pytest.approx(cars["002415.SZ"])
    assert made.exchanges is exchanges  # computed once
