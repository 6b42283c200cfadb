"""Tables that fit: on a terminal, identifiers (tickers, dates, document numbers, URLs) are never cut or wrapped,
free text wraps, and when even that is too wide the least important columns are dropped (and named) first; when
stdout is not a terminal the same rows go out as plain tab-separated values, one header line per table.

A command describes its table once (``Column``s and rows of strings) and calls ``emit``; the decision between the
two renderings is made here, so every command behaves the same when piped into ``cut``, ``sort`` or a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from monitor.commands import _common

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

WORD = 16  # free text wraps between words; a longer word (a reason's path or hash) folds at this width
_MARKUP = re.compile(r"\[/?[a-z][a-z ]*\]|\[/\]")


@dataclass(frozen=True)
class Column:
    """``identifier``: shown whole on one line (a ticker, date, number or URL), never truncated nor wrapped.
    ``drop``: the order in which columns give way when the table cannot fit (1 first, 0 never)."""

    name: str
    identifier: bool = False
    justify: Literal["left", "right"] = "left"
    drop: int = 0


def plain(text: str) -> str:
    """A cell without rich markup, on one line, with no tab: safe as a TSV field."""
    return " ".join(_MARKUP.sub("", text).replace("\t", " ").split())


def is_terminal() -> bool:
    return _common.console.is_terminal


def _build(title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for index, column in enumerate(columns):
        if column.identifier:
            # the header may wrap between its words; the values never do
            longest = max([len(plain(row[index])) for row in rows] + [len(w) for w in column.name.split()])
            # a Text's own no_wrap wins over its column's: the header wraps, the values stay whole
            header = Text(column.name, no_wrap=False, overflow="fold")
            table.add_column(header, justify=column.justify, no_wrap=True, min_width=longest)
        else:  # wraps between words; only a word longer than WORD is folded
            words = [len(word) for row in rows for word in plain(row[index]).split()] + [len(column.name)]
            table.add_column(column.name, justify=column.justify, overflow="fold", min_width=min(max(words), WORD))
    for row in rows:
        table.add_row(*row)
    return table


def fit(
    title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, console: Console
) -> tuple[Table | None, list[str]]:
    """The table at ``width`` with the fewest columns dropped, and the names dropped; ``None`` when even the
    columns that never give way are wider than the terminal (the caller then prints one record per row)."""
    from rich.measure import Measurement

    kept = list(range(len(columns)))
    dropped: list[str] = []
    order = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop > 0)
    while True:
        table = _build(title, [columns[i] for i in kept], [[row[i] for i in kept] for row in rows])
        # measured unbounded: Measurement.get would clamp the minimum to the width asked about
        measured = Measurement.get(console, console.options.update_width(10_000), table)
        if measured.minimum <= width:
            if measured.maximum > width:
                _share(table, width - measured.minimum, console)
            return table, dropped
        if not order:
            return None, dropped
        _, index = order.pop(0)
        kept.remove(index)
        dropped.append(columns[index].name)


def _share(table: Table, spare: int, console: Console) -> None:
    """Fix the widths of the free-text columns of a table that fits only with some of them wrapped: each gets its
    minimum, then the ``spare`` columns are shared out evenly, a column that needs less than its share taking only
    what makes it whole (so short cells stay on one line). Left to itself, rich narrows every wrapping column alike
    down to the width, below the minimum of some (a number cut short)."""
    from rich.measure import Measurement

    options = console.options.update_width(10_000)
    least: dict[int, int] = {}
    needs: dict[int, int] = {}  # what each wrapping column would still take to be on one line
    for index, column in enumerate(table.columns):
        cells = [Measurement.get(console, options, cell) for cell in [column.header, *column.cells]]
        least[index] = max([column.min_width or 0] + [m.minimum for m in cells])
        if not column.no_wrap:
            needs[index] = max(m.maximum for m in cells) - least[index]
    waiting = sorted((need, index) for index, need in needs.items() if need > 0)
    for position, (need, index) in enumerate(waiting):
        share = min(need, spare // (len(waiting) - position))
        spare -= share
        table.columns[index].width = least[index] + share
    for index in needs:  # whole already at their minimum: fixed there too, so rich narrows none of them
        if table.columns[index].width is None:
            table.columns[index].width = least[index]


def emit(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    console: Console | None = None,
) -> None:
    """Print the table to stdout: fitted on a terminal, TSV (``# title``, header, rows) otherwise."""
    out = console or _common.console
    if not out.is_terminal:
        lines = [f"# {plain(title)}"] if title else []
        lines.append("\t".join(c.name for c in columns))
        lines += ["\t".join(plain(cell) for cell in row) for row in rows]
        out.file.write("\n".join(lines) + "\n")
        out.file.flush()
        return
    table, dropped = fit(title, columns, rows, out.width, out)
    if table is None:  # narrower than the identifiers: one record per row, each value whole on its own line
        if title:
            out.print(f"[bold]{title}[/bold]")
        for row in rows:
            for column, cell in zip(columns, row, strict=True):
                out.print(f"  {column.name}: {cell}", soft_wrap=True)
            out.print()
        return
    out.print(table, soft_wrap=False)
    if dropped:
        hidden = ", ".join(dropped)
        out.print(f"[dim](hidden at this width: {hidden}; widen the terminal or use --json)[/dim]", soft_wrap=False)


def text_line(message: str, *, wrap: bool = True) -> None:
    """A line of prose around the tables, wrapped between words at the terminal's width (``wrap=False`` for a line
    whose URL must stay one piece to be copied); as plain text (``# ``-prefixed) when piped, so TSV readers skip it."""
    out = _common.console
    if out.is_terminal:
        out.print(message, soft_wrap=not wrap)
    else:
        out.file.write(f"# {plain(message)}\n")
