"""The report's charts as PNG bytes: matplotlib's ``Figure`` on the Agg canvas (no pyplot, no global state).

Per event: each security's CAR path (and, for events with few securities, one panel per security with its ARs as
bars and its CAR as a line), and the CAAR of each relation group. Across events: the mean CAR path per group.
Halted sessions carry no abnormal return, so a halted security's path simply has no point there (never a zero).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from monitor.models import Relation
from monitor.report.data import EventRecord, StudyRecord

COLORS = {
    "all": "#222222",
    Relation.DIRECT.value: "#b22222",
    Relation.PARENT.value: "#8e44ad",
    Relation.SUBSIDIARY.value: "#d35400",
    Relation.SUPPLIER.value: "#1f4e9c",
    Relation.CUSTOMER.value: "#16a085",
    Relation.COMPETITOR.value: "#7f8c8d",
}
MAX_PANELS = 12  # per-security panels above this many securities would be unreadable: the overlay says it all
MAX_LABELLED = 10  # securities named in the overlay's legend
DPI = 80


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()


def _style(axes: Any, *, ylabel: str | None = None) -> None:
    from matplotlib.ticker import PercentFormatter

    axes.axhline(0, color="#555555", linewidth=0.7)
    axes.axvline(0, color="#1f4e9c", linestyle="--", linewidth=0.8)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    axes.grid(True, linewidth=0.3, alpha=0.6)
    axes.tick_params(labelsize=7)
    if ylabel:
        axes.set_ylabel(ylabel, fontsize=8)


def _car_points(study: StudyRecord) -> tuple[list[int], list[float]]:
    points = [(d.rel_day, d.car * 100) for d in study.days if d.car is not None and d.ar is not None]
    return [p[0] for p in points], [p[1] for p in points]


def _window_car(study: StudyRecord, label: str) -> float:
    window = study.windows.get(label)
    return window.car if window is not None and window.car is not None else 0.0


def group_caar_paths(event: EventRecord) -> dict[str, tuple[list[int], list[float]]]:
    """CAAR path per stored group: the running sum of its AAR over the event window's days."""
    paths: dict[str, tuple[list[int], list[float]]] = {}
    for key, stats in event.groups.items():
        days, values, total = [], [], 0.0
        for day in stats.aar:
            if day.get("aar") is None:
                continue
            total += float(day["aar"]) * 100
            days.append(int(day["rel_day"]))
            values.append(total)
        if days:
            paths[key] = (days, values)
    return paths


def event_chart(event: EventRecord) -> bytes | None:
    """CAR per security (left) and CAAR per relation group (right); None when nothing has a CAR."""
    studies = [s for s in event.studies if s.usable and any(d.car is not None for d in s.days)]
    paths = group_caar_paths(event)
    if not studies and not paths:
        return None
    figure = _figure(10, 3.6)
    left, right = figure.subplots(1, 2, sharey=True)
    named = {s.symbol for s in sorted(studies, key=lambda s: -abs(_window_car(s, event.main_label)))[:MAX_LABELLED]}
    seen_relations: set[str] = set()
    for study in studies:
        days, values = _car_points(study)
        color = COLORS.get(study.relation, "#444444")
        if study.symbol in named:
            label = f"{study.symbol} ({study.relation})"
        elif study.relation not in seen_relations:
            label = f"other {study.relation}"
        else:
            label = None
        seen_relations.add(study.relation)
        left.plot(days, values, color=color, linewidth=1.1, alpha=0.85, marker="o", markersize=2.5, label=label)
    _style(left, ylabel="CAR")
    left.set_title("CAR per security", fontsize=9)
    left.set_xlabel("sessions from day 0", fontsize=8)
    if studies:
        left.legend(fontsize=6, loc="best", ncol=2)
    all_stats = event.groups.get("all")
    if all_stats is not None:
        bars = [(int(d["rel_day"]), float(d["aar"]) * 100) for d in all_stats.aar if d.get("aar") is not None]
        if bars:
            right.bar([b[0] for b in bars], [b[1] for b in bars], color="#999999", alpha=0.45, width=0.6, label="AAR")
    for key, (days, values) in sorted(paths.items(), key=lambda item: item[0] != "all"):
        n = event.groups[key].n
        width = 2.2 if key == "all" else 1.4
        right.plot(days, values, color=COLORS.get(key, "#444444"), linewidth=width, marker="o", markersize=3,
                   label=f"CAAR {key} (N={n})")  # fmt: skip
    _style(right)
    right.set_title("CAAR per group", fontsize=9)
    right.set_xlabel("sessions from day 0", fontsize=8)
    if paths:
        right.legend(fontsize=6, loc="best")
    figure.tight_layout()
    return _png(figure)


def security_panels(event: EventRecord) -> bytes | None:
    """One small panel per security (ARs as bars, CAR as a line); None above ``MAX_PANELS`` or without data."""
    studies = [s for s in event.studies if s.days and any(d.ar is not None for d in s.days)]
    if not studies or len(studies) > MAX_PANELS:
        return None
    columns = min(4, len(studies))
    rows = math.ceil(len(studies) / columns)
    figure = _figure(2.6 * columns, 2.1 * rows)
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    for position, axes in enumerate(grid.flat):
        if position >= len(studies):
            axes.set_visible(False)
            continue
        study = studies[position]
        bars = [(d.rel_day, d.ar * 100) for d in study.days if d.ar is not None]
        colors = ["#b22222" if v < 0 else "#2e7d32" for _, v in bars]
        axes.bar([b[0] for b in bars], [b[1] for b in bars], color=colors, alpha=0.5, width=0.6)
        days, values = _car_points(study)
        axes.plot(days, values, color=COLORS.get(study.relation, "#444444"), linewidth=1.4, marker="o", markersize=2)
        halted = [d.rel_day for d in study.days if d.halted]
        for day in halted:
            axes.axvspan(day - 0.5, day + 0.5, color="#f0c000", alpha=0.25, linewidth=0)
        _style(axes)
        title = f"{study.symbol} ({study.relation})" + (" · halted" if halted else "")
        axes.set_title(title, fontsize=8)
    figure.tight_layout()
    return _png(figure)


def cross_event_chart(events: Sequence[EventRecord]) -> bytes | None:
    """Mean CAR path per relation group over every (event, security) with a CAR on that event day."""
    sums: dict[str, dict[int, list[float]]] = {}
    for event in events:
        for study in event.studies:
            if not study.usable:
                continue
            for day in study.days:
                if day.car is None or day.ar is None:
                    continue
                for key in ("all", study.relation):
                    sums.setdefault(key, {}).setdefault(day.rel_day, []).append(day.car * 100)
    if not sums:
        return None
    figure = _figure(8, 3.6)
    axes = figure.add_subplot(1, 1, 1)
    for key, by_day in sorted(sums.items(), key=lambda item: item[0] != "all"):
        days = sorted(by_day)
        values = [sum(by_day[d]) / len(by_day[d]) for d in days]
        pairs = max(len(v) for v in by_day.values())
        axes.plot(days, values, color=COLORS.get(key, "#444444"), linewidth=2.2 if key == "all" else 1.4,
                  marker="o", markersize=3, label=f"{key} (up to {pairs} event-securities)")  # fmt: skip
    _style(axes, ylabel="mean CAR")
    axes.set_xlabel("sessions from day 0", fontsize=8)
    axes.set_title("Mean CAR path per relation group, across events", fontsize=9)
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)
