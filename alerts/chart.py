"""The AR/CAR chart posted under each follow-up: abnormal returns as bars, cumulative ones as lines.

Built on ``matplotlib.figure.Figure`` with the Agg canvas directly, not pyplot: no global figure state, so the
delivery worker can draw from any thread and never leaks figures.
"""

from __future__ import annotations

import io

from monitor.outbox import ChartSeries, FollowUpAlert

MAX_SERIES = 8  # more lines than this is unreadable; the first ones (the group averages, then the largest) win


def chart_filename(dedup_key: str) -> str:
    """A file name unique to the alert, so a retry can recognise a chart it already uploaded."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in dedup_key)
    return f"ar-car-{safe}.png"


def has_chart(alert: FollowUpAlert) -> bool:
    return any(any(p.car is not None or p.ar is not None for p in s.points) for s in alert.paths)


def render_chart(alert: FollowUpAlert, *, dpi: int = 110) -> bytes:
    """PNG bytes: the first series' ARs as bars, every series' CAR as a line, day 0 marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    series = [s for s in alert.paths if s.points][:MAX_SERIES]
    if not series:
        raise ValueError(f"alert {alert.dedup_key} has no AR/CAR path to draw")
    figure = Figure(figsize=(8, 4.5), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    bars = series[0]
    days = [p.rel_day for p in bars.points if p.ar is not None]
    values = [p.ar * 100 for p in bars.points if p.ar is not None]
    if days:
        colors = ["#b22222" if v < 0 else "#2e7d32" for v in values]
        axes.bar(days, values, color=colors, alpha=0.45, width=0.6, label=f"AR {bars.label}")
    for line in series:
        points = [(p.rel_day, p.car * 100) for p in line.points if p.car is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", markersize=3, linewidth=1.6, label=f"CAR {_label(line)}")
    axes.axhline(0, color="#555555", linewidth=0.8)
    axes.axvline(0, color="#1f4e9c", linestyle="--", linewidth=0.9)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    axes.set_xlabel("trading days relative to day 0 (the first close at or after the announcement)")
    axes.set_ylabel("abnormal return")
    first, last = alert.car_window
    axes.set_title(f"{alert.document_number}: AR and CAR, window [{first:+d}, {last:+d}]", fontsize=10)
    axes.grid(True, linewidth=0.3, alpha=0.6)
    axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _label(series: ChartSeries) -> str:
    return series.label if len(series.label) <= 24 else series.label[:23] + "…"
