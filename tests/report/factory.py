"""Hand-built report records, for the report's pure parts (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.report.data import DayPoint, EventRecord, GroupStats, StudyRecord, WindowValue

LABELS = ("[0,0]", "[0,1]", "[-1,1]", "[0,3]", "[0,5]", "[-5,5]")


def study(
    event_id: int,
    symbol: str,
    relation: str = "direct",
    *,
    car: float = -0.05,
    t: float = -2.0,
    day0: date = date(2019, 10, 8),
    status: str = "complete",
    halted_day0: bool = False,
) -> StudyRecord:
    days = []
    total = 0.0
    for rel in range(-5, 6):
        halted = halted_day0 and rel in (0, 1)
        ar = None if halted else car / 11
        total += ar or 0.0
        days.append(DayPoint(rel, day0 + timedelta(days=rel), ar, ar, None if halted else -1.0, total, 1, halted))
    return StudyRecord(
        event_id=event_id,
        symbol=symbol,
        issuer=f"{symbol} Holdings <Ltd>",
        exchange_mic="XNYS",
        relation=relation,
        benchmark="^GSPC",
        status=status,
        reason=None if status == "complete" else "no prices",
        day0=day0,
        day0_halted=halted_day0,
        reaction_date=day0 + timedelta(days=2) if halted_day0 else day0,
        through_date=day0 + timedelta(days=5),
        alpha=0.0,
        beta=1.0,
        sigma=0.02,
        n_estimation=250,
        bhar=car,
        windows={label: WindowValue(car, t, 0.05, (car / t) ** 2, True) for label in LABELS},
        days=tuple(days) if status == "complete" else (),
    )


def group_tests(rbar: float, placebo_p: float | None) -> dict[str, Any]:
    p_values = {"kp_bmp_t": 0.02, "portfolio_t": 0.04, "rank_z": 0.07}
    window = {"n": 3, "caar": -0.05, "kp_bmp_t": -2.5, "portfolio_t": -2.1, "rank_z": -1.8}
    window |= {"mean_residual_correlation": rbar, "p_values": p_values}
    return {**window, "placebo_p": placebo_p, "sub_windows": {label: dict(window) for label in LABELS[:-1]}}


def event(
    event_id: int,
    studies: list[StudyRecord],
    *,
    announced: datetime = datetime(2019, 10, 7, 20, 15, tzinfo=UTC),
    groups: dict[str, GroupStats] | None = None,
    title: str = "Addition of Certain Entities to the Entity List",
) -> EventRecord:
    aar = tuple({"rel_day": rel, "aar": -0.005, "n": 3} for rel in range(-5, 6))
    return EventRecord(
        event_id=event_id,
        document_number=f"2019-{event_id:05d}",
        title=title,
        announced_at=announced,
        announced_source="pi_filed_at",
        publication_date=announced.date(),
        html_url="https://www.federalregister.gov/d/2019-22210",
        is_backfill=True,
        window=(-5, 5),
        parameters={"model": "market", "estimation": 250, "gap": 10, "window": [-5, 5], "placebo_draws": 100},
        studies=tuple(studies),
        groups=groups if groups is not None else {"all": GroupStats(len(studies), -0.05, aar, group_tests(0.1, 0.04))},
    )
