"""The match index on disk: a SQLite file per universe version, queried in place, so a cold ``monitor match``
reads a few rows instead of rebuilding an index of every listing.

``write_index`` stores what ``MatchIndex.build`` computed (names, exact keys, token postings, phrase postings,
one-deletion neighbourhoods, document frequencies, targets, exposures); ``StoredIndex`` answers the matcher's
questions from it with indexed lookups and keeps what it has read. The file name carries the universe's version
(``store.universe_version``) and a digest of the matching code, so a changed universe or normalizer never reads a
stale file; files are written to a temporary name and renamed, so a reader never sees half of one.

Names are stored as written and normalized again when read (``normalize_name`` is pure and cached), which keeps
the file small and the normalizer the single source of every comparison.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.db.revisions import shipped_head
from monitor.matching.index import MatchIndex, NameOrigin, Target, TargetKind, Variant, _one_deletions
from monitor.matching.lexicon import GENERIC, ORG_TYPES
from monitor.matching.normalize import NameForm, normalize_name
from monitor.matching.records import CorporateLinkRecord, ExposureRecord
from monitor.matching.scoring import DISTINCTIVE_WEIGHT, FUZZY_MIN_LENGTH, GENERIC_WEIGHT, ORG_TYPE_WEIGHT
from monitor.models import Security

if TYPE_CHECKING:
    from sqlalchemy import Connection

FORMAT = 1
_EXACT = ("key", "core", "han", "han_core")
_CODE = ("normalize.py", "lexicon.py", "derive.py", "index.py", "scoring.py", "persisted.py")
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE targets (id INTEGER PRIMARY KEY, kind TEXT, name TEXT, country TEXT, symbols TEXT, links TEXT,
                      descriptors TEXT);
CREATE TABLE securities (symbol TEXT PRIMARY KEY, issuer INTEGER, data TEXT);
CREATE TABLE variants (id INTEGER PRIMARY KEY, target INTEGER, original TEXT, is_alias INTEGER, origin TEXT,
                       derived_from TEXT);
CREATE TABLE exact (kind INTEGER, value TEXT, variant INTEGER);
CREATE TABLE postings (token TEXT, variant INTEGER);
CREATE TABLE phrases (phrase TEXT, variant INTEGER);
CREATE TABLE deletions (deletion TEXT, token TEXT);
CREATE TABLE frequency (token TEXT PRIMARY KEY, targets INTEGER);
CREATE TABLE exposures (target INTEGER, data TEXT);
"""
_INDEXES = """
CREATE INDEX exact_lookup ON exact (kind, value);
CREATE INDEX postings_lookup ON postings (token);
CREATE INDEX phrases_lookup ON phrases (phrase);
CREATE INDEX deletions_lookup ON deletions (deletion);
CREATE INDEX exposures_lookup ON exposures (target);
"""

K = TypeVar("K")
V = TypeVar("V")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code that decides what the file holds: a changed normalizer makes a new file."""
    digest = hashlib.sha256(str(FORMAT).encode())
    package = resources.files("monitor.matching")
    for name in _CODE:
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()[:12]


def index_path(cache_dir: Path, version: str) -> Path:
    return cache_dir / f"match-index-{code_digest()}-{version}.sqlite"


# What a change of the universe touches: an insert moves a table's count and highest id, an update its latest
# updated_at, a delete its count. Fixed statements (no ORM): the first thing a cold ``monitor match`` asks.
_VERSION_QUERIES = (
    "SELECT count(*), max(id), max(updated_at) FROM securities",
    "SELECT count(*), max(id), max(updated_at) FROM corporate_links",
    "SELECT count(*), max(id), max(updated_at) FROM exposures",
    "SELECT count(*), max(id), max(updated_at) FROM lei_relationships",
    "SELECT count(*), max(id), max(updated_at) FROM security_leis",
    "SELECT count(*), max(updated_at) FROM lei_records",
    "SELECT count(*), max(id) FROM security_aliases",
)


def _version_parts(connection: Connection) -> list[Any]:
    from sqlalchemy import text

    parts: list[Any] = []
    for query in _VERSION_QUERIES:
        parts += connection.execute(text(query)).one()
    return parts


def universe_version(connection: Connection) -> str:
    """A short digest that changes whenever a listing, alias, link, exposure or cached GLEIF record changes.

    Plain SQL on a connection (no ORM, no table classes): a cold ``monitor match`` asks this before anything else,
    and the answer alone tells it whether the index file on disk is current.
    """
    return _digest(_version_parts(connection))


def _digest(parts: list[Any]) -> str:
    joined = "|".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def current_index(connection: Connection, cache_dir: Path) -> StoredIndex | None:
    """The index file of the stored universe's current version, opened; None when there is none to open yet.

    None also for an empty universe, which must be seeded first (``store.stored_matcher`` does both).
    """
    parts = _version_parts(connection)
    if not parts[0]:
        return None
    path = index_path(cache_dir, _digest(parts))
    return StoredIndex(path) if path.exists() else None


def embedded_current_index(database: Path, cache_dir: Path) -> StoredIndex | None:
    """``current_index`` for the embedded SQLite database, read with the standard library's sqlite3.

    A cold ``monitor match`` on the embedded database asks only this: no SQLAlchemy (a fifth of the cold start)
    and no engine. The queries are ``current_index``'s and sqlite3 returns the values SQLAlchemy hands through
    unchanged, so both find the same file. None (the caller takes the engine path, which creates, upgrades or
    seeds as needed) when the database is missing or unreadable, its schema is not at the shipped head, the
    universe is empty or the file is not written.
    """
    head = shipped_head()
    if head is None or not database.is_file():
        return None
    try:
        connection = sqlite3.connect(database, timeout=30)
    except sqlite3.Error:
        return None
    try:
        if connection.execute("SELECT version_num FROM alembic_version").fetchall() != [(head,)]:
            return None
        parts = [value for query in _VERSION_QUERIES for value in connection.execute(query).fetchone()]
    except sqlite3.Error:
        return None  # no alembic_version table yet, or a table this schema lacks: the engine path says why
    finally:
        connection.close()
    if not parts[0]:
        return None
    path = index_path(cache_dir, _digest(parts))
    return StoredIndex(path) if path.exists() else None


def write_index(index: MatchIndex, path: Path) -> Path:
    """Store a built index at ``path`` (atomically: written beside it, then renamed); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial)
    try:
        connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", str(FORMAT)), ("common_cutoff", str(index.common_cutoff)), ("stats", json.dumps(index.stats))],
        )
        connection.executemany(
            "INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    number,
                    target.kind.value,
                    target.name,
                    target.country,
                    json.dumps([security.symbol for security in target.securities]),
                    json.dumps([link.model_dump(mode="json") for link in target.links]),
                    " ".join(sorted(index.descriptors[number])),
                )
                for number, target in enumerate(index.targets)
            ),
        )
        connection.executemany(
            "INSERT INTO securities VALUES (?, ?, ?)",
            (
                (symbol, index.issuer_of_symbol.get(symbol), security.model_dump_json())
                for symbol, security in index.securities.items()
            ),
        )
        connection.executemany(
            "INSERT INTO variants VALUES (?, ?, ?, ?, ?, ?)",
            (
                (number, v.target, v.form.original, int(v.is_alias), v.origin.value, v.derived_from)
                for number, v in enumerate(index.variants)
            ),
        )
        tables = (index.by_key, index.by_core, index.by_han, index.by_han_core)
        connection.executemany(
            "INSERT INTO exact VALUES (?, ?, ?)",
            (
                (kind, value, number)
                for kind, table in enumerate(tables)
                for value, numbers in table.items()
                for number in numbers
            ),
        )
        connection.executemany(
            "INSERT INTO postings VALUES (?, ?)",
            ((token, number) for token, numbers in index.postings.items() for number in numbers),
        )
        connection.executemany(
            "INSERT INTO phrases VALUES (?, ?)",
            ((phrase, number) for phrase, numbers in index.phrases.items() for number in numbers),
        )
        connection.executemany(
            "INSERT INTO deletions VALUES (?, ?)",
            ((deletion, token) for deletion, tokens in index.deletions.items() for token in tokens),
        )
        connection.executemany("INSERT INTO frequency VALUES (?, ?)", index.document_frequency.items())
        connection.executemany(
            "INSERT INTO exposures VALUES (?, ?)",
            (
                (target, exposure.model_dump_json())
                for target, exposures in index.exposures_of.items()
                for exposure in exposures
            ),
        )
        connection.executescript(_INDEXES)
        connection.commit()
    finally:
        connection.close()
    os.replace(partial, path)
    return path


class _Lazy(Mapping[K, V]):
    """A read-through mapping over one query; what it has read stays (a match reads tens of rows)."""

    def __init__(self, load: object) -> None:
        self._load = load
        self._seen: dict[K, V] = {}

    def __getitem__(self, key: K) -> V:
        if key not in self._seen:
            value = self._load(key)  # type: ignore[operator]
            if value is None:
                raise KeyError(key)
            self._seen[key] = value
        return self._seen[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._seen)

    def __len__(self) -> int:
        return len(self._seen)


class StoredIndex:
    """The matcher's view of an index file: the same questions ``MatchIndex`` answers, from indexed rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(self._db.execute("SELECT name, value FROM meta"))
        if meta.get("format") != str(FORMAT):
            raise ValueError(f"{path}: match index format {meta.get('format')}, expected {FORMAT}")
        self.common_cutoff = int(meta["common_cutoff"])
        self.stats: dict[str, int] = json.loads(meta["stats"])
        self._frequency: dict[str, int] = {}
        self.variants: _Lazy[int, Variant] = _Lazy(self._variant)
        self.targets: _Lazy[int, Target] = _Lazy(self._target)
        self.descriptors: _Lazy[int, frozenset[str]] = _Lazy(self._descriptors)
        self.securities: _Lazy[str, Security] = _Lazy(self._security)
        self.issuer_of_symbol: _Lazy[str, int] = _Lazy(self._issuer)
        self.exposures_of: _Lazy[int, list[ExposureRecord]] = _Lazy(self._exposures)
        self.by_key: _Lazy[str, list[int]] = _Lazy(lambda key: self._exact(0, key))

    def close(self) -> None:
        self._db.close()

    # --- what the matcher asks -------------------------------------------------------------------------------

    def weight(self, token: str) -> float:
        if token in ORG_TYPES:
            return ORG_TYPE_WEIGHT
        if token in GENERIC or self._document_frequency(token) > self.common_cutoff:
            return GENERIC_WEIGHT
        return DISTINCTIVE_WEIGHT

    def candidates(self, form: NameForm) -> set[int]:
        """As ``MatchIndex.candidates``: exact keys, shared or near distinctive tokens, compounds and phrases."""
        found: set[int] = set()
        for kind, value in enumerate((form.key, form.core_key, form.han, form.han_core)):
            if value:
                found.update(self._exact(kind, value) or ())
        tokens = list(form.tokens)
        self._prefetch_frequency(tokens)
        wanted = [first + second for first, second in pairwise(tokens)]
        near: list[str] = []
        for token in tokens:
            if self.weight(token) >= DISTINCTIVE_WEIGHT:
                wanted.append(token)
                if len(token) >= FUZZY_MIN_LENGTH:
                    near += _one_deletions(token)
        if near:
            similar = {row[0] for row in self._rows_in("SELECT token FROM deletions", "deletion", near)}
            wanted += sorted(similar)
        if wanted:
            found.update(row[0] for row in self._rows_in("SELECT variant FROM postings", "token", wanted))
        phrases = [
            "".join(tokens[start : start + size])
            for size in range(2, min(4, len(tokens)) + 1)
            for start in range(len(tokens) - size + 1)
        ]
        if phrases:
            found.update(row[0] for row in self._rows_in("SELECT variant FROM phrases", "phrase", phrases))
        self._prefetch_variants(found)
        return found

    # --- reading rows ----------------------------------------------------------------------------------------

    def _rows_in(self, select: str, column: str, values: Sequence[Any]) -> list[Any]:
        """``select`` restricted to ``column IN (...)``: only placeholders go into the text, values are bound."""
        marks = ",".join("?" * len(values))
        return self._db.execute(f"{select} WHERE {column} IN ({marks})", list(values)).fetchall()

    def _document_frequency(self, token: str) -> int:
        if token not in self._frequency:
            self._prefetch_frequency([token])
        return self._frequency[token]

    def _prefetch_frequency(self, tokens: list[str]) -> None:
        missing = [token for token in set(tokens) if token not in self._frequency]
        if not missing:
            return
        rows = dict(self._rows_in("SELECT token, targets FROM frequency", "token", missing))
        for token in missing:
            self._frequency[token] = int(rows.get(token, 0))

    def _prefetch_variants(self, numbers: set[int]) -> None:
        missing = [number for number in numbers if number not in self.variants._seen]
        if not missing:
            return
        columns = "SELECT id, target, original, is_alias, origin, derived_from FROM variants"
        forms: list[NameForm] = []
        for number, target, original, is_alias, origin, derived in self._rows_in(columns, "id", missing):
            form = normalize_name(original)
            forms.append(form)
            self.variants._seen[number] = Variant(target, form, bool(is_alias), NameOrigin(origin), derived)
        self._prefetch_frequency([token for form in forms for token in form.tokens])

    def _variant(self, number: int) -> Variant | None:
        self._prefetch_variants({number})
        return self.variants._seen.get(number)

    def _exact(self, kind: int, value: str) -> list[int] | None:
        rows = self._db.execute("SELECT variant FROM exact WHERE kind = ? AND value = ?", (kind, value)).fetchall()
        return [row[0] for row in rows] or None

    def _target(self, number: int) -> Target | None:
        row = self._db.execute(
            "SELECT kind, name, country, symbols, links FROM targets WHERE id = ?", (number,)
        ).fetchone()
        if row is None:
            return None
        kind, name, country, symbols, links = row
        return Target(
            TargetKind(kind),
            name,
            securities=tuple(self.securities[symbol] for symbol in json.loads(symbols)),
            links=tuple(CorporateLinkRecord.model_validate(link) for link in json.loads(links)),
            country=country,
        )

    def _descriptors(self, number: int) -> frozenset[str] | None:
        row = self._db.execute("SELECT descriptors FROM targets WHERE id = ?", (number,)).fetchone()
        return None if row is None else frozenset(row[0].split())

    def _security(self, symbol: str) -> Security | None:
        row = self._db.execute("SELECT data FROM securities WHERE symbol = ?", (symbol,)).fetchone()
        return None if row is None else Security.model_validate_json(row[0])

    def _issuer(self, symbol: str) -> int | None:
        row = self._db.execute("SELECT issuer FROM securities WHERE symbol = ?", (symbol,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _exposures(self, target: int) -> list[ExposureRecord]:
        rows = self._db.execute("SELECT data FROM exposures WHERE target = ?", (target,))
        return [ExposureRecord.model_validate_json(row[0]) for row in rows]
