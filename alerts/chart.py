"""The AR/CAR chart posted under each follow-up: abnormal returns as bars, cumulative ones as lines.

Built on ``matplotlib.figure.Figure`` with the Agg canvas directly, not pyplot: no global figure state, so the
delivery worker can draw from any thread and never leaks figures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monitor.outbox import ChartSeries, FollowUpAlert

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_SERIES = 8  # more lines than this is unreadable; the first ones (the group averages, then the largest) win


def chart_filename(dedup_key: str) -> str:
    """A file name unique to the alert, so a retry can recognise a chart it already uploaded."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in dedup_key)
    return f"ar-car-{safe}.png"


def has_chart(alert: FollowUpAlert) -> bool:
    return any(any(p.car is not None or p.ar is not None for p in s.points) for s in alert.paths)


# 10 x 5 inches at 100 dpi: 1000 x 500 px, Slack's preview width without downscaling the 9-point text.
FIGSIZE = (10.0, 5.0)
DPI = 100
END_LABEL_GAP = 0.055  # of the y-axis span: a 9-point label's height on a 500 px chart, with a little air


def spread(values: Sequence[float], gap: float) -> list[float]:
    """Positions for labels wanted at ``values``, at least ``gap`` apart, in the same order, moved as little as
    a simple two-pass sweep allows (up from the lowest, then re-centred on the wanted positions' mean)."""
    if not values:
        return []
    order = sorted(range(len(values)), key=lambda i: values[i])
    placed = [values[order[0]]]
    for i in order[1:]:
        placed.append(max(values[i], placed[-1] + gap))
    shift = sum(values[i] for i in order) / len(order) - sum(placed) / len(placed)
    out = [0.0] * len(values)
    for rank, i in enumerate(order):
        out[i] = placed[rank] + shift
    return out


def build_figure(alert: FollowUpAlert, *, dpi: int = DPI) -> Figure:
    """The chart as a Figure (tests read its texts): the first series' ARs as bars, every CAR as a line with its
    value at the line's end, over exactly the alert's ``car_window``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    drawn = [s for s in alert.paths if s.points]
    averages = [s for s in drawn if s.label.startswith("CAAR")]
    series = (averages + [s for s in drawn if s not in averages])[:MAX_SERIES]  # the averages always make it
    if not series:
        raise ValueError(f"alert {alert.dedup_key} has no AR/CAR path to draw")
    first, last = alert.car_window
    figure = Figure(figsize=FIGSIZE, dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    bars = series[0]  # the exchange's average when there is one, else the first security
    days = [p.rel_day for p in bars.points if p.ar is not None and first <= p.rel_day <= last]
    values = [p.ar * 100 for p in bars.points if p.ar is not None and first <= p.rel_day <= last]
    if days:
        colors = ["#b22222" if v < 0 else "#2e7d32" for v in values]
        axes.bar(days, values, color=colors, alpha=0.35, width=0.6, label=f"AR {_label(bars)} (bars)")
    ends: list[tuple[float, float, str, Any]] = []
    for line in series:
        points = [(p.rel_day, p.car * 100) for p in line.points if p.car is not None and first <= p.rel_day <= last]
        if points:
            xs, ys = zip(*points, strict=True)
            width = 2.4 if line.label.startswith("CAAR") else 1.4
            plotted = axes.plot(xs, ys, marker="o", markersize=3, linewidth=width, label=f"CAR {_label(line)}")
            ends.append((xs[-1], ys[-1], f"{_label(line)} {ys[-1]:+.1f}%", plotted[0].get_color()))
    axes.axhline(0, color="#555555", linewidth=0.8)
    if first <= 0 <= last:
        axes.axvline(0, color="#1f4e9c", linestyle="--", linewidth=0.9)
    axes.set_xlim(first - 0.6, last + 0.6 + max(1.2, 0.35 * (last - first + 1)))  # room for the end labels
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    low, high = axes.get_ylim()
    placed = spread([e[1] for e in ends], END_LABEL_GAP * (high - low))
    for (x, _, text, color), y in zip(ends, placed, strict=True):
        axes.annotate(text, (x, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize=9, color=color)
    if placed:
        pad = END_LABEL_GAP * (high - low)
        axes.set_ylim(min(low, min(placed) - pad), max(high, max(placed) + pad))
    axes.set_xlabel("trading days relative to day 0 (the first close at or after the announcement)", fontsize=10)
    axes.set_ylabel("abnormal return, %", fontsize=10)
    where = f"{alert.exchange_name or alert.exchange} securities, " if alert.exchange else ""
    axes.set_title(f"{alert.document_number}: {where}AR and CAR over [{first:+d}, {last:+d}]", fontsize=11)
    axes.tick_params(labelsize=9)
    axes.grid(True, linewidth=0.3, alpha=0.6)
    axes.legend(fontsize=8, loc="upper left", framealpha=0.85)
    figure.tight_layout()
    return figure


def render_chart(alert: FollowUpAlert, *, dpi: int = DPI) -> bytes:
    """PNG bytes of ``build_figure``."""
    buffer = io.BytesIO()
    build_figure(alert, dpi=dpi).savefig(buffer, format="png")
    return buffer.getvalue()


def _label(series: ChartSeries) -> str:
    return series.label if len(series.label) <= 24 else series.label[:23] + "…"
