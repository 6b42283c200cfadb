"""The report's charts as PNG bytes: matplotlib's ``Figure`` on the Agg canvas (no pyplot, no global state).

Per event: every security's CAR path (coloured by relation, named when there are few) beside the CAAR of each
relation group over the bars of the event's AAR; for events with few securities, also one panel per security
with its ARs as bars and its CAR as a line. Across events: the mean CAR path per relation group. Halted sessions
carry no abnormal return, so a halted security's path has no point there (never a zero).

A report can hold hundreds of events, so the per-event figure is built once and only its data change from one
event to the next; the colour key is in the HTML, not in every image.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.logs import get_logger
from monitor.models import OPEN_STUDY_STATUSES, Relation
from monitor.report.data import EventRecord, StudyRecord

log = get_logger(__name__)

COLORS = {
    "all": "#222222",
    Relation.DIRECT.value: "#b22222",
    Relation.PARENT.value: "#8e44ad",
    Relation.SUBSIDIARY.value: "#d35400",
    Relation.SUPPLIER.value: "#1f4e9c",
    Relation.CUSTOMER.value: "#16a085",
    Relation.COMPETITOR.value: "#7f8c8d",
}
GROUP_ORDER = tuple(COLORS)
MAX_PANELS = 12  # per-security panels above this many securities would be unreadable: the overlay says it all
MAX_NAMED = 10  # securities named at the end of their line in the overlay
DPI = 72
CHART_VERSION = 1  # part of every cache key: raise it when a change to the drawing code changes the pixels
OPEN = frozenset(status.value for status in OPEN_STUDY_STATUSES)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _style(axes: Any) -> None:
    from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

    axes.axhline(0, color="#555555", linewidth=0.7)
    axes.axvline(0, color="#1f4e9c", linestyle="--", linewidth=0.8)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    axes.yaxis.set_major_locator(MaxNLocator(5))
    axes.xaxis.set_major_locator(FixedLocator([-10, -5, 0, 5, 10]))
    axes.grid(True, linewidth=0.3, alpha=0.6)
    axes.tick_params(labelsize=7)


def car_path(study: StudyRecord) -> list[tuple[int, float]]:
    """(event day, CAR in percent) on the days a return ends (halted days have none)."""
    return [(d.rel_day, d.car * 100) for d in study.days if d.car is not None and d.ar is not None]


def group_caar_paths(event: EventRecord) -> dict[str, list[tuple[int, float]]]:
    """CAAR path per stored group: the running sum of its AAR over the event window's days, in percent."""
    paths: dict[str, list[tuple[int, float]]] = {}
    for key, stats in event.groups.items():
        total, points = 0.0, []
        for day in stats.aar:
            if day.get("aar") is None:
                continue
            total += float(day["aar"]) * 100
            points.append((int(day["rel_day"]), total))
        if points:
            paths[key] = points
    return paths


class EventChart:
    """The per-event figure, built once: CAR per security (left), CAAR per group over the AAR (right)."""

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(9, 2.8), dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.07, right=0.99, bottom=0.11, top=0.97, wspace=0.06)
        self.left, self.right = self.figure.subplots(1, 2, sharey=True)
        self.lines = {key: LineCollection([], colors=COLORS[key], linewidths=1.1, alpha=0.8) for key in GROUP_ORDER}
        for collection in self.lines.values():
            self.left.add_collection(collection)
        self.names = [self.left.text(0, 0, "", fontsize=6, visible=False) for _ in range(MAX_NAMED)]
        self.bar_days: range = range(0)
        self.bars: list[Any] = []
        self.caar = {
            key: self.right.plot([], [], color=COLORS[key], linewidth=2.2 if key == "all" else 1.4, marker="o",
                                 markersize=3)[0]
            for key in GROUP_ORDER
        }  # fmt: skip
        for axes in (self.left, self.right):
            _style(axes)
            # Fixed (unused) axis-label positions: otherwise every draw measures every tick label of both axes to
            # place labels this figure does not have (a sixth of its drawing time).
            axes.xaxis.set_label_coords(0.5, -0.1)
            axes.yaxis.set_label_coords(-0.1, 0.5)

    def render(self, event: EventRecord) -> bytes | None:
        studies = [s for s in event.studies if s.usable]
        paths = [(s, car_path(s)) for s in studies]
        paths = [(s, p) for s, p in paths if p]
        groups = group_caar_paths(event)
        if not paths and not groups:
            return None
        values: list[float] = [0.0]
        days: list[int] = [event.window[0], event.window[1]]
        for key, collection in self.lines.items():
            segments = [p for s, p in paths if s.relation == key or (key == "all" and s.relation not in COLORS)]
            collection.set_segments(segments)
            values += [v for p in segments for _, v in p]
        ranked = sorted(paths, key=lambda item: -abs(item[1][-1][1]))[: MAX_NAMED if len(paths) <= MAX_NAMED else 0]
        for label, (study, path) in zip(self.names, [*ranked, *[(None, None)] * MAX_NAMED], strict=False):
            if study is None or path is None:
                label.set_visible(False)
                continue
            label.set_position(path[-1])
            label.set_text(f" {study.symbol}")
            label.set_visible(True)
        aar = {int(d["rel_day"]): float(d["aar"]) * 100 for d in _aar(event) if d.get("aar") is not None}
        self._bars_for(event.window)
        for rectangle, day in zip(self.bars, self.bar_days, strict=True):
            rectangle.set_height(aar.get(day, 0.0))
        values += list(aar.values())
        for key, line in self.caar.items():
            points = groups.get(key, [])
            line.set_data([d for d, _ in points], [v for _, v in points])
            values += [v for _, v in points]
        low, high = min(values), max(values)
        pad = max((high - low) * 0.08, 0.5)
        self.left.set_ylim(low - pad, high + pad)
        self.left.set_xlim(min(days) - 0.5, max(days) + 1.5)
        self.right.set_xlim(min(days) - 0.5, max(days) + 0.5)
        return _png(self.figure)

    def _bars_for(self, window: tuple[int, int]) -> None:
        """One bar per event-window day, rebuilt only when a wider window comes along."""
        days = range(min(window[0], -5), max(window[1], 5) + 1)
        if self.bar_days.start <= days.start and days.stop <= self.bar_days.stop:
            return
        for rectangle in self.bars:
            rectangle.remove()
        self.bar_days = days
        self.bars = list(self.right.bar(list(days), [0.0] * len(days), color="#999999", alpha=0.45, width=0.6))


def _aar(event: EventRecord) -> Sequence[dict[str, Any]]:
    stats = event.groups.get("all")
    return stats.aar if stats is not None else ()


def security_panels(event: EventRecord) -> bytes | None:
    """One small panel per security (ARs as bars, CAR as a line); None above ``MAX_PANELS`` or without data."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    studies = [s for s in event.studies if s.days and any(d.ar is not None for d in s.days)]
    if not studies or len(studies) > MAX_PANELS:
        return None
    columns = min(4, len(studies))
    rows = math.ceil(len(studies) / columns)
    figure = Figure(figsize=(2.6 * columns, 2.0 * rows), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.9, wspace=0.35, hspace=0.45)
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    for position, axes in enumerate(grid.flat):
        if position >= len(studies):
            axes.set_visible(False)
            continue
        study = studies[position]
        bars = [(d.rel_day, d.ar * 100) for d in study.days if d.ar is not None]
        colors = ["#b22222" if v < 0 else "#2e7d32" for _, v in bars]
        axes.bar([b[0] for b in bars], [b[1] for b in bars], color=colors, alpha=0.5, width=0.6)
        path = car_path(study)
        axes.plot([d for d, _ in path], [v for _, v in path], color=COLORS.get(study.relation, "#444444"),
                  linewidth=1.4, marker="o", markersize=2)  # fmt: skip
        halted = [d.rel_day for d in study.days if d.halted]
        for day in halted:
            axes.axvspan(day - 0.5, day + 0.5, color="#f0c000", alpha=0.25, linewidth=0)
        _style(axes)
        title = f"{study.symbol} ({study.relation})" + (" · halted" if halted else "")
        axes.set_title(title, fontsize=8)
    return _png(figure)


def cross_event_chart(events: Sequence[EventRecord]) -> bytes | None:
    """Mean CAR path per relation group over every (event, security) with a CAR on that event day."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sums: dict[str, dict[int, list[float]]] = {}
    for event in events:
        for study in event.studies:
            if not study.usable:
                continue
            for day, value in car_path(study):
                for key in ("all", study.relation):
                    sums.setdefault(key, {}).setdefault(day, []).append(value)
    if not sums:
        return None
    figure = Figure(figsize=(8, 3.4), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.99, bottom=0.14, top=0.9)
    axes = figure.add_subplot(1, 1, 1)
    for key, by_day in sorted(sums.items(), key=lambda item: GROUP_ORDER.index(item[0]) if item[0] in COLORS else 99):
        days = sorted(by_day)
        values = [sum(by_day[d]) / len(by_day[d]) for d in days]
        pairs = max(len(v) for v in by_day.values())
        axes.plot(days, values, color=COLORS.get(key, "#444444"), linewidth=2.2 if key == "all" else 1.4,
                  marker="o", markersize=3, label=f"{key} (up to {pairs} event-securities)")  # fmt: skip
    _style(axes)
    axes.set_ylabel("mean CAR", fontsize=8)
    axes.set_xlabel("sessions from day 0", fontsize=8)
    axes.legend(fontsize=7, loc="best")
    return _png(figure)


# --- many events: the drawing shared between processes ------------------------------------------------------------

PARALLEL_FROM = 40  # events from which drawing is split between processes (forking costs a few tenths of a second)
_SHARED: list[EventRecord] = []  # set before forking: the children inherit it instead of receiving it pickled


def draw_all(
    events: Sequence[EventRecord], *, panels: bool, workers: int | None = None, cache: ChartCache | None = None
) -> dict[int, dict[str, bytes | None]]:
    """Every event's charts, keyed by event id (``start_drawing`` and its ``result`` at once)."""
    with start_drawing(events, panels=panels, workers=workers, cache=cache) as drawing:
        return drawing.result()


def start_drawing(
    events: Sequence[EventRecord], *, panels: bool, workers: int | None = None, cache: ChartCache | None = None
) -> Drawing:
    """Start drawing every event's charts: large reports are split between forked processes where the platform can
    fork (each draws on its own figure) and go on while the caller does other work (the CSV, the summary); small
    ones are drawn in this process when the result is asked for. With a ``cache``, a completed event's charts
    drawn before from the same study are reused, and the newly drawn ones of completed events are kept."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    kinds = ("event", "panels") if panels else ("event",)
    out: dict[int, dict[str, bytes | None]] = {}
    keys: dict[int, dict[str, str]] = {}
    todo: list[EventRecord] = []
    for event in events:
        if cache is not None and completed(event):
            keys[event.event_id] = {kind: chart_key(event, kind) for kind in kinds}
            found = {kind: cache.get(key) for kind, key in keys[event.event_id].items()}
            if all(value is not None for value in found.values()):
                out[event.event_id] = {"event": None, "panels": None}
                out[event.event_id].update({kind: value.png for kind, value in found.items() if value is not None})
                continue
        todo.append(event)
    drawing = Drawing(out, keys, todo, panels, cache)
    count = workers or min(os.cpu_count() or 1, 4)
    if len(todo) < PARALLEL_FROM or count < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return drawing
    _SHARED[:] = todo
    try:
        drawing.pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork"))
        jobs = [(range(start, len(todo), count), panels) for start in range(count)]
        drawing.futures = [drawing.pool.submit(_draw_shared, job) for job in jobs]
    except BaseException:
        drawing.close()
        raise
    return drawing


class Drawing:
    """Charts being drawn (``start_drawing``); ``result`` waits for them. A context manager: leaving it stops the
    worker processes, whether or not the result was taken."""

    def __init__(
        self,
        ready: dict[int, dict[str, bytes | None]],
        keys: dict[int, dict[str, str]],
        todo: list[EventRecord],
        panels: bool,
        cache: ChartCache | None,
    ) -> None:
        self.ready, self.keys, self.todo, self.panels, self.cache = ready, keys, todo, panels, cache
        self.pool: Any = None  # a ProcessPoolExecutor when the drawing is split between processes
        self.futures: list[Any] = []

    def result(self) -> dict[int, dict[str, bytes | None]]:
        drawn: dict[int, dict[str, bytes | None]] = {}
        if self.pool is not None:
            for future in self.futures:
                drawn.update(future.result())
            self.close()
        elif self.todo:
            drawn = _draw(self.todo, range(len(self.todo)), self.panels)
        if self.cache is not None:
            for event_id, charts in drawn.items():
                for kind, key in self.keys.get(event_id, {}).items():
                    self.cache.put(key, charts[kind])
        return {**self.ready, **drawn}

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        _SHARED.clear()

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def completed(event: EventRecord) -> bool:
    """No study of the event can change any more unless its data is corrected (none pending, partial or halted)."""
    return bool(event.studies) and all(study.status not in OPEN for study in event.studies)


def chart_key(event: EventRecord, kind: str) -> str:
    """A digest of everything a chart of ``kind`` shows (the stored numbers, statuses, relations, symbols, window)
    and of the drawing code's version: a changed study, or new drawing code, gets a new key and is redrawn."""
    import hashlib

    import matplotlib

    digest = hashlib.sha256(repr((CHART_VERSION, matplotlib.__version__, kind, event.window)).encode())
    for study in event.studies:  # the fields the charts read, as plain tuples (a dataclass repr is 5x slower)
        days = tuple((d.rel_day, d.ar, d.car, d.halted) for d in study.days)
        digest.update(repr((study.symbol, study.relation, study.status, days)).encode())
    for key, stats in sorted(event.groups.items()):
        digest.update(repr((key, tuple((d.get("rel_day"), d.get("aar")) for d in stats.aar))).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Cached:
    png: bytes | None  # None: the chart has nothing to draw (the key says so, no need to try again)


@dataclass(frozen=True)
class ChartCache:
    """PNG files named by ``chart_key`` in one directory (``<data_dir>/cache/charts`` for the CLI). A chart with
    nothing to draw is an empty ``.none`` file. Writes go through a temporary file and a rename, so a reader never
    sees half a PNG; a directory that cannot be written only means charts are drawn again next time."""

    directory: Path

    def get(self, key: str) -> Cached | None:
        try:
            return Cached((self.directory / f"{key}.png").read_bytes())
        except OSError:
            return Cached(None) if (self.directory / f"{key}.none").exists() else None

    def put(self, key: str, png: bytes | None) -> None:
        import os
        import tempfile

        target = self.directory / (f"{key}.png" if png is not None else f"{key}.none")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(png or b"")
                os.replace(temporary, target)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            log.warning("chart_cache_unwritable", directory=str(self.directory), error=str(exc))


def _draw_shared(job: tuple[range, bool]) -> dict[int, dict[str, bytes | None]]:
    positions, panels = job
    return _draw(_SHARED, positions, panels)


def _draw(events: Sequence[EventRecord], positions: range, panels: bool) -> dict[int, dict[str, bytes | None]]:
    drawer = EventChart()
    return {
        events[i].event_id: {
            "event": drawer.render(events[i]),
            "panels": security_panels(events[i]) if panels else None,
        }
        for i in positions
    }
