"""An event's study as stored: ``save`` writes a ``StudyRun`` idempotently (upserts on (event, symbol), (study,
rel_day), (event, group)) inside the caller's transaction; ``load`` reads it back in the ``monitor study --json``
shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from monitor.logs import get_logger
from monitor.pipeline.studies import StudyRun
from monitor.study import SecurityResult

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.db.tables.studies import Study

log = get_logger(__name__)


def _study_row(event_id: int, run: StudyRun, security: SecurityResult, computed_at: datetime) -> dict[str, Any]:
    params = run.result.params
    return {
        "event_id": event_id,
        "symbol": security.symbol,
        "relation": run.relations.get(security.symbol),
        "benchmark": security.benchmark,
        "status": security.status,
        "reason": security.reason,
        "day0": security.day0,
        "day0_halted": security.day0_halted,
        "reaction_date": security.reaction_date,
        "through_date": security.through_date,
        "model": params.model,
        "estimation": params.estimation,
        "gap": params.gap,
        "window_start": params.window[0],
        "window_end": params.window[1],
        "alpha": security.alpha,
        "beta": security.beta,
        "sigma": security.sigma,
        "n_estimation": security.n_estimation,
        "car": security.car,
        "car_variance": security.car_variance,
        "car_t": security.car_t,
        "car_p": security.car_p,
        "bhar": security.bhar,
        "sub_windows": {label: window.to_dict() for label, window in security.sub_windows.items()},
        "computed_at": computed_at,
    }


def save(session: Session, event_id: int, run: StudyRun, *, computed_at: datetime) -> dict[str, int]:
    """Store one event's study (idempotent: rerunning updates in place); returns the study id per symbol.

    A security's day rows are replaced by the new ones (a halt that ended moves the lumped return), and the
    aggregate of every group is upserted on (event, group). Runs inside the caller's transaction.
    """
    from sqlalchemy import Table, bindparam, delete, insert, select, update

    from monitor.db.tables.studies import EventStatistic, Study, StudyDay
    from monitor.db.upsert import upsert

    securities = run.result.securities
    rows = [_study_row(event_id, run, s, computed_at) for s in securities]
    stored = dict(session.execute(select(Study.symbol, Study.id).where(Study.event_id == event_id)).all())
    # Rows already there (the pipeline opens every study before running it) are updated by primary key in one
    # executemany compiled once; only new ones need the upsert, whose multi-row statement is compiled per call.
    known = [row for row in rows if row["symbol"] in stored]
    if known:
        studies: Table = Study.__table__  # type: ignore[assignment]
        columns = list(known[0])
        statement = (
            update(studies)
            .where(studies.c.id == bindparam("row_id"))
            .values({name: bindparam(f"v_{name}", type_=studies.c[name].type) for name in columns})
        )
        updates = [{"row_id": stored[row["symbol"]], **{f"v_{k}": v for k, v in row.items()}} for row in known]
        session.execute(statement, updates)
    fresh = [row for row in rows if row["symbol"] not in stored]
    if fresh:
        upsert(session, Study, fresh, key=["event_id", "symbol"])
        stored = dict(session.execute(select(Study.symbol, Study.id).where(Study.event_id == event_id)).all())
    ids = {symbol: int(study_id) for symbol, study_id in stored.items()}
    days = [
        {
            "study_id": ids[s.symbol],
            "rel_day": d.rel_day,
            "date": d.date,
            "ret": d.ret,
            "benchmark_return": d.benchmark_return,
            "ar": d.ar,
            "ar_t": d.ar_t,
            "car": d.car,
            "sessions": d.sessions,
            "halted": d.halted,
            "status": d.status,
        }
        for s in securities
        for d in s.days
        if d.date is not None
    ]
    session.execute(delete(StudyDay).where(StudyDay.study_id.in_([ids[s.symbol] for s in securities])))
    if days:  # all deleted just above: a plain executemany, compiled once (an upsert recompiles per row count)
        table: Table = StudyDay.__table__  # type: ignore[assignment]
        session.execute(insert(table), days)
    params = run.result.params
    parameters = {
        "model": params.model,
        "estimation": params.estimation,
        "gap": params.gap,
        "window": list(params.window),
        "min_estimation": params.min_estimation,
        "placebo_draws": params.placebo_draws,
        "placebo_seed": params.placebo_seed,
        "event_time": run.when.label,
    }
    stats = []
    for key, aggregate in run.groups.items():
        body = aggregate.to_dict()
        tests = {**body["tests"], "sub_windows": body["sub_windows"], "placebo_note": body["placebo_note"]}
        row = {"event_id": event_id, "group_key": key, "n": aggregate.n, "caar": aggregate.caar, "aar": body["aar"]}
        stats.append({**row, "tests": tests, "parameters": parameters, "computed_at": computed_at})
    upsert(session, EventStatistic, stats, key=["event_id", "group_key"])
    log.info("study_saved", event_id=event_id, securities=len(securities), groups=len(stats))
    return {symbol: int(study_id) for symbol, study_id in ids.items()}


def load(session: Session, event_id: int) -> dict[str, Any] | None:
    """A stored study in the ``monitor study --json`` shape (plus ``groups``), or None if none is stored."""
    from sqlalchemy import select

    from monitor.db.tables.studies import EventStatistic, Study, StudyDay

    studies = session.execute(select(Study).where(Study.event_id == event_id).order_by(Study.id)).scalars().all()
    if not studies:
        return None
    days: dict[int, list[dict[str, Any]]] = {}
    query = select(StudyDay).where(StudyDay.study_id.in_([s.id for s in studies])).order_by(StudyDay.rel_day)
    for day in session.execute(query).scalars():
        days.setdefault(day.study_id, []).append(
            {
                "rel_day": day.rel_day,
                "date": day.date.isoformat(),
                "return": day.ret,
                "benchmark_return": day.benchmark_return,
                "ar": day.ar,
                "t": day.ar_t,
                "car": day.car,
                "sessions": day.sessions,
                "halted": day.halted,
                "status": day.status,
            }
        )
    stats = session.execute(select(EventStatistic).where(EventStatistic.event_id == event_id)).scalars().all()
    groups: dict[str, dict[str, Any]] = {
        row.group_key: {"n": row.n, "caar": row.caar, "aar": row.aar, "tests": row.tests, "parameters": row.parameters}
        for row in stats
    }
    first = studies[0]
    parameters = groups.get("all", {}).get("parameters", {})
    return {
        "event_time": parameters.get("event_time"),
        "model": first.model,
        "estimation": first.estimation,
        "gap": first.gap,
        "window": [first.window_start, first.window_end],
        "securities": [_stored_security(s, days.get(s.id, [])) for s in studies],
        "aggregate": groups.get("all"),
        "groups": {key: value for key, value in groups.items() if key != "all"},
    }


def _stored_security(study: Study, days: list[dict[str, Any]]) -> dict[str, Any]:
    def iso(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "symbol": study.symbol,
        "relation": study.relation,
        "benchmark": study.benchmark,
        "day0": iso(study.day0),
        "status": study.status,
        "reason": study.reason,
        "alpha": study.alpha,
        "beta": study.beta,
        "sigma": study.sigma,
        "n_estimation": study.n_estimation,
        "car": study.car,
        "car_variance": study.car_variance,
        "car_t": study.car_t,
        "car_p": study.car_p,
        "bhar": study.bhar,
        "day0_halted": study.day0_halted,
        "reaction_date": iso(study.reaction_date),
        "through_date": iso(study.through_date),
        "days": days,
        "sub_windows": study.sub_windows,
        "computed_at": study.computed_at.isoformat() if study.computed_at else None,
    }


__all__ = ["load", "save"]
