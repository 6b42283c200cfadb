"""Reading a CSV file a user gave us, within limits: the file, its lines, and each line's fields.

A user can hand ``monitor universe import`` or ``monitor match --universe`` anything: a device that never ends
(``/dev/zero``), a FIFO that blocks, a file of gigabytes, one line of megabytes, an unclosed quote. Only a regular
file under ``MAX_FILE_BYTES`` is opened; lines are read in pieces of at most ``MAX_LINE_BYTES`` so a single huge
line never sits in memory; and a quoted field may span at most ``MAX_ROW_LINES`` lines, so an unclosed quote
spoils its own line instead of swallowing the rest of the file (``csv_files`` reads the lines after it again).
"""

from __future__ import annotations

import csv
import stat
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path

from monitor.errors import InputError

# Limits on a file a user gives us. The shipped seed and market universe are far below each: the largest seed line
# is under 300 characters, and a million listings fit in about 100 MB.
MAX_FILE_BYTES = 512 * 1024 * 1024  # larger files are refused before they are read
MAX_LINE_BYTES = 64 * 1024  # one row; a longer line is a bad row (csv's own 128 KiB field limit never fires)
MAX_ROW_LINES = 4  # a quoted field may hold line breaks (a spreadsheet cell), so a row may span this many lines
MAX_FIELD_CHARS = 16 * 1024  # one field: a name or a list of aliases, never a document
BATCH_ROWS = 5_000  # rows an import parses and writes at a time


def physical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str | None]]:
    """(line number, line without its ending) for text lines; None for a line over ``MAX_LINE_BYTES``."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        yield number, None if len(text.encode("utf-8")) > MAX_LINE_BYTES else text


def split_line(line: str) -> list[str]:
    return next(csv.reader([line], strict=True), [])


def check_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse, before opening it, anything but a regular file within the size limit (a device, a FIFO, a
    directory, a file too large to load): one line naming the file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file")
    if info.st_size > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise InputError(f"{path}: {info.st_size:,} bytes, over the {limit} MiB limit")


def file_lines(path: Path, source: str | None = None) -> Generator[tuple[int, str | None], None, None]:
    """(line number, line without its ending) of a file, read in pieces of at most ``MAX_LINE_BYTES`` so one huge
    line never sits in memory; None for a line over the limit (its rest is skipped). Each line is decoded on its
    own, so a byte that is not UTF-8 is reported with its line."""
    check_file(path)
    name = source or str(path)
    try:
        with path.open("rb") as handle:
            number = 0
            while piece := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(piece.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                    while piece and not piece.endswith(b"\n"):  # skip the rest of the line, a piece at a time
                        piece = handle.readline(MAX_LINE_BYTES + 1)
                    yield number, None
                    continue
                try:
                    yield number, piece.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise InputError(f"{name}:{number}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
