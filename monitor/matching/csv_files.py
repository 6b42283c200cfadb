"""Universe, exposure and corporate-link CSV files: validated row by row, bad rows reported by line number.

A file with a wrong header or encoding is refused whole (``InputError``); a file with some bad rows yields the good
rows plus one ``RowError`` per bad row, so an import can load what it can and say exactly what it could not.
The shipped seed files live in ``monitor/matching/data`` and are read through ``importlib.resources``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import ValidationError

from monitor.errors import InputError
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


def _rows(text: str, source: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(first physical line of the row, row) pairs; blank rows are skipped but still counted as lines."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}; expected {','.join(required)}")
    line = reader.line_num
    for values in reader:
        start, line = line + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) > len(header):
            yield start, {"__extra__": "1"}
            continue
        padded = [*values, *([""] * (len(header) - len(values)))]
        yield start, {name: value.strip() for name, value in zip(header, padded, strict=True)}


def _parse(text: str, source: str, kind: FileKind, build: Callable[[dict[str, str]], T]) -> Parsed[T]:
    parsed: Parsed[T] = Parsed(source=source)
    for line, row in _rows(text, source, COLUMNS[kind]):
        if "__extra__" in row:
            parsed.errors.append(RowError(line, "more fields than columns (unquoted comma?)"))
            continue
        try:
            parsed.rows.append((line, build(row)))
        except _RowProblem as exc:
            parsed.errors.append(RowError(line, str(exc)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            parsed.errors.append(RowError(line, f"{where}: {first['msg']}"))
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
    parsed = _parse(text, source, FileKind.SECURITIES, _security)
    first_line: dict[str, int] = {}
    unique: list[tuple[int, Security]] = []
    for line, security in parsed.rows:
        if security.symbol in first_line:
            parsed.errors.append(
                RowError(line, f"ticker {security.symbol} already given on line {first_line[security.symbol]}")
            )
            continue
        first_line[security.symbol] = line
        unique.append((line, security))
    parsed.rows = unique
    parsed.errors.sort(key=lambda error: error.line)
    return parsed


def parse_exposures(text: str, source: str = "<text>") -> Parsed[ExposureRecord]:
    return _parse(text, source, FileKind.EXPOSURES, _exposure)


def parse_links(text: str, source: str = "<text>") -> Parsed[CorporateLinkRecord]:
    return _parse(text, source, FileKind.LINKS, _link)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def detect_kind(text: str, source: str) -> FileKind:
    """Which of the three formats a file is in, from its header."""
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    names = {name.strip() for name in header}
    for kind in (FileKind.SECURITIES, FileKind.LINKS, FileKind.EXPOSURES):
        if set(COLUMNS[kind]) <= names:
            return kind
    formats = "; ".join(f"{kind.value}: {','.join(columns)}" for kind, columns in COLUMNS.items())
    raise InputError(f"{source}: header {','.join(header) or '(empty)'} matches no known format ({formats})")


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
        parsed_securities = parse_securities(read_text(securities), str(securities))
        problems += [f"{securities}: {error}" for error in parsed_securities.errors]
        security_records = parsed_securities.records
    if links is not None:
        parsed_links = parse_links(read_text(links), str(links))
        problems += [f"{links}: {error}" for error in parsed_links.errors]
        link_records = parsed_links.records
    if exposures is not None:
        parsed_exposures = parse_exposures(read_text(exposures), str(exposures))
        problems += [f"{exposures}: {error}" for error in parsed_exposures.errors]
        exposure_records = parsed_exposures.records
    universe = Universe(tuple(security_records), tuple(link_records), tuple(exposure_records))
    return universe.restricted(), problems
