"""Universe, exposure and corporate-link CSV files: validated row by row, bad rows reported by line number.

A file with a wrong header or encoding is refused whole (``InputError``); a file with some bad rows yields the good
rows plus one ``RowError`` per bad row, so an import can load what it can and say exactly what it could not.
The shipped seed files live in ``monitor/matching/data`` and are read through ``importlib.resources``.

Files are streamed with limits, since a user can hand us anything: only a regular file under ``MAX_FILE_BYTES`` is
opened (``/dev/zero`` or a FIFO is refused before a byte is read), a line holds at most ``MAX_LINE_BYTES``, a
quoted field spans at most ``MAX_ROW_LINES`` lines (so an unclosed quote spoils only its own line; the lines it
took are read again as rows of their own), and ``batches`` hands an import ``BATCH_ROWS`` rows at a time.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from monitor.errors import InputError
from monitor.matching.csv_lines import (
    BATCH_ROWS,
    MAX_FIELD_CHARS,
    MAX_LINE_BYTES,
    MAX_ROW_LINES,
    check_file,
    file_lines,
    physical_lines,
    split_line,
)
from monitor.matching.records import CorporateLinkRecord, CounterpartyRole, ExposureRecord, LinkRole, Universe
from monitor.models import Security

T = TypeVar("T")

SYMBOL_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=&]{0,31}$")
_MIC = re.compile(r"^[A-Z0-9]{4}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")


class FileKind(StrEnum):
    SECURITIES = "securities"
    EXPOSURES = "exposures"
    LINKS = "links"


COLUMNS: dict[FileKind, tuple[str, ...]] = {
    FileKind.SECURITIES: ("issuer_name", "aliases", "ticker", "exchange_mic", "country", "currency", "benchmark"),
    FileKind.EXPOSURES: ("ticker", "counterparty", "relation", "weight", "source"),
    FileKind.LINKS: ("entity_name", "aliases", "ticker", "relation", "source"),
}
SEED_FILES: dict[FileKind, str] = {
    FileKind.SECURITIES: "universe_seed.csv",
    FileKind.EXPOSURES: "exposures_seed.csv",
    FileKind.LINKS: "corporate_links_seed.csv",
}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Parsed(Generic[T]):
    """Good rows (with the line each came from) and the bad rows' errors."""

    source: str
    rows: list[tuple[int, T]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def records(self) -> list[T]:
        return [record for _, record in self.rows]


class _RowProblem(ValueError):
    pass


Lines = Iterable[tuple[int, str | None]]  # (line number, text without its ending, or None when over the limit)


def _rows(lines: Lines, source: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    """(line number, row or the line's error); blank lines are skipped but still counted."""
    numbered = iter(lines)
    first = next(numbered, None)
    header_line = first[1] if first is not None else ""
    if header_line is None:
        raise InputError(f"{source}:1: the header is longer than {MAX_LINE_BYTES:,} bytes")
    try:
        header = [name.strip() for name in split_line(header_line.lstrip("\ufeff"))]
    except csv.Error as exc:
        raise InputError(f"{source}:1: the header is not CSV ({exc})") from None
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}; expected {','.join(required)}")
    replay: deque[tuple[int, str | None]] = deque()  # lines to read again after an unclosed quote

    def next_line() -> tuple[int, str | None] | None:
        return replay.popleft() if replay else next(numbered, None)

    while (item := next_line()) is not None:
        number, line = item
        if line is None:
            yield number, RowError(number, f"line is longer than {MAX_LINE_BYTES:,} bytes")
            continue
        if not line.strip():
            continue
        values, taken, problem = _split_row(line, next_line)
        if values is None:
            yield number, RowError(number, problem)
            replay.extendleft(reversed(taken))  # the lines an unclosed quote took are rows of their own
            continue
        if not any(value.strip() for value in values):
            continue
        if taken and _swallowed(values, len(header)):  # a stray quote further down closed this line's open one
            yield number, RowError(number, f"unclosed quote (its field ran into line {taken[-1][0]})")
            replay.extendleft(reversed(taken))
            continue
        if len(values) > len(header):
            yield number, RowError(number, "more fields than columns (unquoted comma?)")
            continue
        sizes = [(name, len(value)) for name, value in zip(header, values, strict=False)]
        too_long = [(name, size) for name, size in sizes if size > MAX_FIELD_CHARS]
        if too_long:
            name, size = too_long[0]
            yield number, RowError(number, f"{name} is {size:,} characters long; the limit is {MAX_FIELD_CHARS:,}")
            continue
        padded = [*values, *([""] * (len(header) - len(values)))]
        yield number, {name: value.strip() for name, value in zip(header, padded, strict=True)}


def _split_row(
    line: str, next_line: Callable[[], tuple[int, str | None] | None]
) -> tuple[list[str] | None, list[tuple[int, str | None]], str]:
    """``(fields, lines taken after line, "")`` of the row starting with ``line``: a quoted field may span up to
    ``MAX_ROW_LINES`` lines (a spreadsheet cell with a line break). Otherwise ``(None, lines taken, problem)``:
    an unclosed quote spoils its own line only, and the lines it took are handed back."""
    text, taken = line, list[tuple[int, str | None]]()
    while True:
        try:
            return split_line(text), taken, ""
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                return None, taken, f"malformed quoting ({exc})"
        following = next_line() if len(taken) + 1 < MAX_ROW_LINES else None
        if following is None or following[1] is None:
            if following is not None:
                taken.append(following)
            return None, taken, f"unclosed quote (a quoted field may span at most {MAX_ROW_LINES} lines)"
        taken.append(following)
        text += "\n" + following[1]


def _swallowed(values: list[str], columns: int) -> bool:
    """Whether a row read across lines took other rows into a quoted field rather than holding a cell with line
    breaks: a real one still has one field per column, and its broken field holds no field separator."""
    return len(values) != columns or any("\n" in value and "," in value for value in values)


def _records(
    lines: Lines, source: str, kind: FileKind, build: Callable[[dict[str, str]], T]
) -> Iterator[tuple[int, T] | RowError]:
    """Each row built into its record, or its error; securities also refuse a ticker given twice."""
    first_line: dict[str, int] = {}
    for line, row in _rows(lines, source, COLUMNS[kind]):
        if isinstance(row, RowError):
            yield row
            continue
        try:
            record = build(row)
        except _RowProblem as exc:
            yield RowError(line, str(exc))
            continue
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            yield RowError(line, f"{where}: {first['msg']}")
            continue
        if isinstance(record, Security):
            if record.symbol in first_line:
                yield RowError(line, f"ticker {record.symbol} already given on line {first_line[record.symbol]}")
                continue
            first_line[record.symbol] = line
        yield line, record


def _parse(text: str, source: str, kind: FileKind, build: Callable[[dict[str, str]], T]) -> Parsed[T]:
    return _collect(physical_lines(io.StringIO(text, newline="")), source, kind, build)


def _collect(lines: Lines, source: str, kind: FileKind, build: Callable[[dict[str, str]], T]) -> Parsed[T]:
    parsed: Parsed[T] = Parsed(source=source)
    for item in _records(lines, source, kind, build):
        if isinstance(item, RowError):
            parsed.errors.append(item)
        else:
            parsed.rows.append(item)
    return parsed


def _symbol(value: str, column: str) -> str:
    symbol = value.upper()
    if not SYMBOL_PATTERN.match(symbol):
        raise _RowProblem(f"{column} {value!r} is not a Yahoo-style symbol such as AMBA, 002415.SZ or 0981.HK")
    return symbol


def _code(value: str, column: str, pattern: re.Pattern[str], example: str) -> str:
    code = value.upper()
    if not pattern.match(code):
        raise _RowProblem(f"{column} {value!r} is not a code like {example}")
    return code


def _aliases(value: str, exclude: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for alias in value.split("|"):
        alias = alias.strip()
        if alias and alias != exclude:
            seen.setdefault(alias, None)
    return tuple(seen)


def _security(row: dict[str, str]) -> Security:
    name = row["issuer_name"]
    if not name:
        raise _RowProblem("issuer_name is empty")
    listed_on, delisted_on = _date(row, "listed_on"), _date(row, "delisted_on")
    if listed_on is not None and delisted_on is not None and delisted_on <= listed_on:
        raise _RowProblem(f"delisted_on {delisted_on} is not after listed_on {listed_on}")
    return Security(
        symbol=_symbol(row["ticker"], "ticker"),
        issuer_name=name,
        aliases=_aliases(row["aliases"], name),
        exchange_mic=_code(row["exchange_mic"], "exchange_mic", _MIC, "XSHE"),
        country=_code(row["country"], "country", _COUNTRY, "CN"),
        currency=_code(row["currency"], "currency", _CURRENCY, "CNY"),
        benchmark=_symbol(row["benchmark"], "benchmark"),
        listed_on=listed_on,
        delisted_on=delisted_on,
        isin=_isin(row.get("isin", "")),
    )


def _isin(value: str) -> str | None:
    """An optional ISIN column: twelve letters and digits, country first (CNE100000PM8)."""
    code = value.strip().upper()
    if not code:
        return None
    if not _ISIN.match(code):
        raise _RowProblem(f"isin {value!r} is not an ISIN like CNE100000PM8")
    return code


def _date(row: dict[str, str], column: str) -> date | None:
    """An optional ISO date column (``listed_on``, ``delisted_on``): files without the column are fine."""
    value = row.get(column, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _RowProblem(f"{column} {value!r} is not a date like 2019-10-09") from None


def _choice(value: str, column: str, enum: type[StrEnum]) -> str:
    lowered = value.lower()
    allowed = [member.value for member in enum]
    if lowered not in allowed:
        raise _RowProblem(f"{column} {value!r} is not one of {', '.join(allowed)}")
    return lowered


def _exposure(row: dict[str, str]) -> ExposureRecord:
    weight: float | None = None
    if row["weight"]:
        try:
            weight = float(row["weight"])
        except ValueError:
            raise _RowProblem(f"weight {row['weight']!r} is not a number") from None
        if not 0 <= weight <= 1:
            raise _RowProblem(f"weight {row['weight']!r} is not a revenue share between 0 and 1")
    if not row["counterparty"]:
        raise _RowProblem("counterparty is empty")
    year: int | None = None
    if row.get("year"):
        if not row["year"].isdigit() or not 1900 <= int(row["year"]) <= 2100:
            raise _RowProblem(f"year {row['year']!r} is not a fiscal year like 2018")
        year = int(row["year"])
    return ExposureRecord(
        symbol=_symbol(row["ticker"], "ticker"),
        counterparty=row["counterparty"],
        relation=CounterpartyRole(_choice(row["relation"], "relation", CounterpartyRole)),
        weight=weight,
        source=row["source"] or None,
        year=year,
    )


def _link(row: dict[str, str]) -> CorporateLinkRecord:
    name = row["entity_name"]
    if not name:
        raise _RowProblem("entity_name is empty")
    return CorporateLinkRecord(
        entity_name=name,
        aliases=_aliases(row["aliases"], name),
        symbol=_symbol(row["ticker"], "ticker"),
        relation=LinkRole(_choice(row["relation"], "relation", LinkRole)),
        source=row["source"] or None,
    )


def parse_securities(text: str, source: str = "<text>") -> Parsed[Security]:
    return _parse(text, source, FileKind.SECURITIES, _security)


def parse_exposures(text: str, source: str = "<text>") -> Parsed[ExposureRecord]:
    return _parse(text, source, FileKind.EXPOSURES, _exposure)


def parse_links(text: str, source: str = "<text>") -> Parsed[CorporateLinkRecord]:
    return _parse(text, source, FileKind.LINKS, _link)


_BUILDERS: dict[FileKind, Callable[[dict[str, str]], object]] = {
    FileKind.SECURITIES: _security,
    FileKind.EXPOSURES: _exposure,
    FileKind.LINKS: _link,
}


def parse_file(path: Path, kind: FileKind) -> Parsed[Any]:
    """A whole file of ``kind``, read within the limits (``match --universe`` and friends)."""
    return _collect(file_lines(path), str(path), kind, _BUILDERS[kind])


def batches(
    path: Path, kind: FileKind, size: int = BATCH_ROWS
) -> Iterator[tuple[list[tuple[int, Any]], list[RowError]]]:
    """The file's good rows and errors ``size`` rows at a time, so an import of a million rows holds a batch,
    not the file, in memory."""
    rows: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    for item in _records(file_lines(path), str(path), kind, _BUILDERS[kind]):
        if isinstance(item, RowError):
            errors.append(item)
        else:
            rows.append(item)
        if len(rows) + len(errors) >= size:
            yield rows, errors
            rows, errors = [], []
    if rows or errors:
        yield rows, errors


def read_text(path: Path) -> str:
    check_file(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def detect_kind(text: str, source: str) -> FileKind:
    """Which of the three formats a file is in, from its header."""
    first = next(physical_lines(io.StringIO(text, newline="")), (1, ""))[1] or ""
    try:
        header = split_line(first.lstrip("\ufeff"))
    except csv.Error:
        header = []
    names = {name.strip() for name in header}
    for kind in (FileKind.SECURITIES, FileKind.LINKS, FileKind.EXPOSURES):
        if set(COLUMNS[kind]) <= names:
            return kind
    formats = "; ".join(f"{kind.value}: {','.join(columns)}" for kind, columns in COLUMNS.items())
    shown = ",".join(header)[:200] or "(empty)"
    raise InputError(f"{source}: header {shown} matches no known format ({formats})")


def detect_file_kind(path: Path) -> FileKind:
    """``detect_kind`` on a file's first line only."""
    lines = file_lines(path)
    first = next(lines, (1, ""))[1]
    lines.close()
    if first is None:
        raise InputError(f"{path}:1: the header is longer than {MAX_LINE_BYTES:,} bytes")
    return detect_kind(first, str(path))


def seed_text(kind: FileKind) -> str:
    return resources.files("monitor.matching").joinpath("data").joinpath(SEED_FILES[kind]).read_text(encoding="utf-8")


def seed_universe() -> Universe:
    """The universe shipped in the package; a broken seed is a packaging bug, so it raises."""
    securities = parse_securities(seed_text(FileKind.SECURITIES), SEED_FILES[FileKind.SECURITIES])
    links = parse_links(seed_text(FileKind.LINKS), SEED_FILES[FileKind.LINKS])
    exposures = parse_exposures(seed_text(FileKind.EXPOSURES), SEED_FILES[FileKind.EXPOSURES])
    for parsed in (securities, links, exposures):
        if parsed.errors:
            raise InputError(f"shipped seed {parsed.source}: {parsed.errors[0]}")
    return Universe(tuple(securities.records), tuple(links.records), tuple(exposures.records))


def read_universe(
    securities: Path | None, exposures: Path | None = None, links: Path | None = None
) -> tuple[Universe, list[str]]:
    """A universe from files for ``monitor match --universe``; returns it with one line per skipped bad row.

    Parts not given come from the shipped seed (links and exposures only where their symbol is in the universe),
    so a parent or supplier still shows up when matching against one's own universe file.
    """
    seed = seed_universe()
    problems: list[str] = []
    security_records = list(seed.securities)
    link_records = list(seed.links)
    exposure_records = list(seed.exposures)
    if securities is not None:
        parsed_securities = parse_file(securities, FileKind.SECURITIES)
        problems += [f"{securities}: {error}" for error in parsed_securities.errors]
        security_records = parsed_securities.records
    if links is not None:
        parsed_links = parse_file(links, FileKind.LINKS)
        problems += [f"{links}: {error}" for error in parsed_links.errors]
        link_records = parsed_links.records
    if exposures is not None:
        parsed_exposures = parse_file(exposures, FileKind.EXPOSURES)
        problems += [f"{exposures}: {error}" for error in parsed_exposures.errors]
        exposure_records = parsed_exposures.records
    universe = Universe(tuple(security_records), tuple(link_records), tuple(exposure_records))
    return universe.restricted(), problems
