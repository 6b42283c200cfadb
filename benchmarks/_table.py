"""The one output format every benchmark prints, so closing notes can quote them side by side."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Row:
    measure: str
    figure: str
    target: str
    ok: bool | None = None  # None: informational, no target to meet


def report(title: str, rows: list[Row]) -> bool:
    """Print the table; returns True when every row with a target met it."""
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_column("target", justify="right")
    table.add_column("ok")
    for row in rows:
        table.add_row(row.measure, row.figure, row.target, "" if row.ok is None else ("yes" if row.ok else "NO"))
    Console(width=120).print(table)
    return all(row.ok is not False for row in rows)


def best_of(repeats: int, func: Callable[[], object]) -> float:
    """Fastest of ``repeats`` wall-clock runs, in seconds: the least noisy figure on a shared machine."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` holds the elapsed seconds."""
    holder: list[float] = []
    start = time.perf_counter()
    try:
        yield holder
    finally:
        holder.append(time.perf_counter() - start)
