"""The cross-event table: one row per (relation group, window), built from the stored per-event studies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from monitor.models import Relation
from monitor.report.data import EventRecord
from monitor.report.pooled import EventSample, PooledCell, clusters, pool
from monitor.study.params import STANDARD_SUB_WINDOWS, window_label

GROUPS: tuple[str, ...] = ("all", *(relation.value for relation in Relation))


@dataclass(frozen=True)
class SummaryRow:
    group: str
    window: str
    cell: PooledCell


def report_windows(events: Sequence[EventRecord]) -> list[str]:
    """The standard windows, then each event window used (normally one, e.g. [-5,5])."""
    labels = [window_label(w) for w in STANDARD_SUB_WINDOWS]
    for event in events:
        if event.main_label not in labels:
            labels.append(event.main_label)
    return labels


def event_span(event: EventRecord) -> tuple[date, date]:
    """Calendar dates the event's windows cover, over its securities (day 0 alone when no day is stored)."""
    dates = [day.date for study in event.studies if study.usable for day in study.days]
    if dates:
        return min(dates), max(dates)
    days0 = [study.day0 for study in event.studies if study.day0 is not None]
    if days0:
        return min(days0), max(days0)
    moment = event.announced_at.date()
    return moment, moment


def samples(events: Sequence[EventRecord], group: str, label: str, cluster_of: dict[int, int]) -> list[EventSample]:
    out: list[EventSample] = []
    for event in events:
        members = [s for s in event.studies if s.usable and (group == "all" or s.relation == group)]
        pairs: list[tuple[float, float]] = []
        for member in members:
            window = member.windows.get(label)
            if window is not None and window.car is not None and window.t is not None:
                pairs.append((window.car, window.t))
        if not pairs:
            continue
        stats = event.groups.get("all") if group == "all" else event.group(group)
        tests = stats.window(label, event.main_label) if stats is not None else None
        rbar = tests.get("mean_residual_correlation") if tests else None
        rank_z = tests.get("rank_z") if tests else None
        placebo_p = tests.get("placebo_p") if tests and label == event.main_label else None
        out.append(
            EventSample(
                event_id=event.event_id,
                cluster=cluster_of[event.event_id],
                cars=tuple(car for car, _ in pairs),
                scars=tuple(t for _, t in pairs),
                rbar=rbar,
                rank_z=rank_z,
                placebo_p=placebo_p,
            )
        )
    return out


def cross_event_summary(events: Sequence[EventRecord]) -> list[SummaryRow]:
    """Every (group, window) with at least one CAR; groups in relation order, "all" first."""
    cluster_of = clusters({event.event_id: event_span(event) for event in events})
    rows: list[SummaryRow] = []
    for group in GROUPS:
        for label in report_windows(events):
            cell = pool(samples(events, group, label, cluster_of))
            if cell.n:
                rows.append(SummaryRow(group, label, cell))
    return rows


def merged_clusters(events: Sequence[EventRecord]) -> list[list[str]]:
    """Document numbers of the events that share a cluster with another (their windows overlap)."""
    cluster_of = clusters({event.event_id: event_span(event) for event in events})
    members: dict[int, list[str]] = {}
    for event in events:
        members.setdefault(cluster_of[event.event_id], []).append(event.document_number)
    return [numbers for numbers in members.values() if len(numbers) > 1]
