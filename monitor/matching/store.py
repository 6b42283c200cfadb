"""The universe and the matches in the database: what the pipeline, the daemon and the CLI call.

- ``ensure_seed_universe(session)``: at start-up; loads the shipped seed when the universe is empty
  (``apply_seed`` re-applies it after an upgrade, ``monitor universe seed``).
- ``build_matcher(session, settings)``: a ``Matcher`` over a fresh snapshot of the stored universe.
- ``match_listing_actions(session, matcher, ids)``: matches stored listing actions and upserts their matches.
- ``save_securities`` / ``save_links`` / ``save_exposures``: idempotent imports (upserts on natural keys).

Every write is an upsert, so importing a file twice, or two replicas seeding at once, never duplicates a row.
Callers own the transaction: nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.orm import Session

from monitor.config import MatchingSettings
from monitor.db.tables import CorporateLink, Exposure, ListingActionRow, MatchRow, SecurityAlias, SecurityRow
from monitor.db.tables._common import utcnow
from monitor.db.upsert import upsert
from monitor.errors import InputError
from monitor.logs import get_logger
from monitor.matching.csv_files import RowError, parse_securities, seed_universe
from monitor.matching.index import MatchIndex, collector_paused
from monitor.matching.matcher import Matcher
from monitor.matching.records import CorporateLinkRecord, CounterpartyRole, ExposureRecord, LinkRole, Universe
from monitor.models import ActionKind, FeedName, ListingAction, Match, Security

log = get_logger(__name__)
_CHUNK = 5000
SEED_SOURCE = "seed"


MARKET_SOURCE = "financedatabase"
MARKET_FILE = "market_universe.csv"


@dataclass(frozen=True)
class SeedReport:
    securities: int
    links: int
    exposures: int
    market: int = 0  # listings of the shipped market universe (FinanceDatabase) written under the curated seed


def _symbol_ids(session: Session, symbols: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(symbols))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(select(SecurityRow.symbol, SecurityRow.id).where(SecurityRow.symbol.in_(chunk)))
        found.update({symbol: int(ident) for symbol, ident in rows})
    return found


def _security_row(security: Security, source: str) -> dict[str, Any]:
    return {
        "symbol": security.symbol,
        "issuer_name": security.issuer_name,
        "exchange_mic": security.exchange_mic,
        "country": security.country,
        "currency": security.currency,
        "benchmark": security.benchmark,
        "listed_on": security.listed_on,
        "delisted_on": security.delisted_on,
        "isin": security.isin,
        "active": True,
        "source": source,
    }


def save_securities(
    session: Session, securities: Sequence[Security], *, source: str, keep_curated: bool = False
) -> int:
    """Upsert listings and add their aliases; with ``keep_curated`` existing rows keep their fields (SEC refresh)."""
    if not securities:
        return 0
    rows = [_security_row(s, source) for s in securities]
    curated = ("issuer_name", "exchange_mic", "country", "currency", "benchmark", "source")
    dates = ("listed_on", "delisted_on", "isin")
    written = upsert(
        session,
        SecurityRow,
        rows,
        key=["symbol"],
        insert_only=curated if keep_curated else (),
        fill_nulls=dates if keep_curated else (),  # a refresh fills dates a curated row lacks, never overwrites
        prefer_new=() if keep_curated else dates,
    )
    ids = _symbol_ids(session, (s.symbol for s in securities))
    stored_names: dict[str, str] = {}
    if keep_curated:
        query = select(SecurityRow.symbol, SecurityRow.issuer_name).where(SecurityRow.id.in_(list(ids.values())))
        stored_names = {symbol: name for symbol, name in session.execute(query)}
    aliases = []
    for security in securities:
        names = list(security.aliases)
        if keep_curated and stored_names.get(security.symbol, security.issuer_name) != security.issuer_name:
            names.append(security.issuer_name)  # the refreshed name becomes an alias of the curated one
        aliases += [{"security_id": ids[security.symbol], "alias": alias} for alias in dict.fromkeys(names)]
    upsert(session, SecurityAlias, aliases, key=["security_id", "alias"], do_nothing=True)
    return written


_Keyed = TypeVar("_Keyed", CorporateLinkRecord, ExposureRecord)


def _known_symbols(
    session: Session, records: Sequence[tuple[int, _Keyed]]
) -> tuple[dict[str, int], list[_Keyed], list[RowError]]:
    """Security ids, the records whose ticker is in the universe, and a line error for each that is not."""
    ids = _symbol_ids(session, (record.symbol for _, record in records))
    errors = [
        RowError(line, f"ticker {record.symbol} is not in the universe; import it first")
        for line, record in records
        if record.symbol not in ids
    ]
    return ids, [record for _, record in records if record.symbol in ids], errors


def save_links(session: Session, links: Sequence[tuple[int, CorporateLinkRecord]]) -> tuple[int, list[RowError]]:
    """Upsert curated links; a link to a symbol not in the universe is reported with its line, not stored."""
    ids, known, errors = _known_symbols(session, links)
    rows = [
        {
            "entity_name": link.entity_name,
            "security_id": ids[link.symbol],
            "relation": link.relation.value,
            "aliases": list(link.aliases),
            "source": link.source,
        }
        for link in known
    ]
    return upsert(session, CorporateLink, rows, key=["entity_name", "security_id", "relation"]), errors


def save_exposures(session: Session, exposures: Sequence[tuple[int, ExposureRecord]]) -> tuple[int, list[RowError]]:
    """Upsert exposures; a row whose ticker is not in the universe is reported with its line, not stored."""
    ids, known, errors = _known_symbols(session, exposures)
    rows = [
        {
            "security_id": ids[e.symbol],
            "counterparty": e.counterparty,
            "relation": e.relation.value,
            "weight": e.weight,
            "source": e.source,
            "year": e.year,
        }
        for e in known
    ]
    return upsert(session, Exposure, rows, key=["security_id", "counterparty", "relation"]), errors


def universe_is_empty(session: Session) -> bool:
    return not session.execute(select(exists().where(SecurityRow.id.is_not(None)))).scalar_one()


def ensure_seed_universe(session: Session, *, market: bool = True) -> SeedReport | None:
    """Load the shipped universe (curated seed, then the market listings under it) into an empty one; else None."""
    if not universe_is_empty(session):
        return None
    return apply_seed(session, market=market)


def apply_seed(session: Session, *, market: bool = True) -> SeedReport:
    """Upsert the shipped seed whatever the universe holds: how an upgrade brings in newly curated links.

    With ``market`` the shipped market universe (about 5,200 Shanghai, Shenzhen and Hong Kong listings from
    FinanceDatabase, MIT) follows with ``keep_curated``: a curated row keeps its fields, the list adds what is new.
    """
    seed = seed_universe()
    securities = save_securities(session, seed.securities, source=SEED_SOURCE)
    links, _ = save_links(session, list(enumerate(seed.links, start=2)))
    exposures, _ = save_exposures(session, list(enumerate(seed.exposures, start=2)))
    listed = add_listings(session, market_securities(), source=MARKET_SOURCE) if market else 0
    report = SeedReport(securities, links, exposures, listed)
    log.info("universe_seeded", securities=securities, links=links, exposures=exposures, market=listed)
    return report


def add_listings(session: Session, securities: Sequence[Security], *, source: str) -> int:
    """``save_securities(keep_curated=True)``, fast for a big list into a small universe (the shipped market).

    Listings not held yet go in with one plain multi-row insert per table; only the few already held take the
    upsert that keeps their curated fields. Returns the rows written.
    """
    held = set(_symbol_ids(session, (security.symbol for security in securities)))
    fresh = [security for security in securities if security.symbol not in held]
    written = save_securities(session, [s for s in securities if s.symbol in held], source=source, keep_curated=True)
    if not fresh:
        return written
    now = utcnow()
    session.execute(insert(SecurityRow), [{**_security_row(s, source), "updated_at": now} for s in fresh])
    ids = _symbol_ids(session, (s.symbol for s in fresh))
    aliases = [{"security_id": ids[s.symbol], "alias": alias} for s in fresh for alias in dict.fromkeys(s.aliases)]
    if aliases:
        session.execute(insert(SecurityAlias), aliases)
    return written + len(fresh)


@lru_cache(maxsize=1)
def market_securities() -> tuple[Security, ...]:
    """The shipped market universe, read once per process; a broken file is a packaging bug, so it raises."""
    text = resources.files("monitor.matching").joinpath("data").joinpath(MARKET_FILE).read_text(encoding="utf-8")
    parsed = parse_securities(text, MARKET_FILE)
    if parsed.errors:
        raise InputError(f"shipped {MARKET_FILE}: {parsed.errors[0]}")
    return tuple(parsed.records)


def universe_version(session: Session) -> str:
    """A short digest that changes whenever a listing, alias, link, exposure or cached GLEIF record changes."""
    from monitor.matching.persisted import universe_version as version_of

    return version_of(session.connection())


def load_universe(session: Session) -> Universe:
    """A snapshot of the active stored universe, ready for ``MatchIndex.build``.

    Tens of thousands of rows become as many records and no reference cycles, so the cyclic collector is paused
    (it would rescan them again and again: half the load's time at 20,000 listings).
    """
    with collector_paused():
        return _load_universe(session)


def _load_universe(session: Session) -> Universe:
    aliases: dict[int, list[str]] = defaultdict(list)
    for security_id, alias in session.execute(
        select(SecurityAlias.security_id, SecurityAlias.alias).order_by(SecurityAlias.id)
    ):
        aliases[security_id].append(alias)
    securities: list[Security] = []
    symbols: dict[int, str] = {}
    for row in session.scalars(select(SecurityRow).where(SecurityRow.active.is_(True)).order_by(SecurityRow.symbol)):
        symbols[row.id] = row.symbol
        securities.append(
            Security(
                symbol=row.symbol,
                issuer_name=row.issuer_name,
                aliases=tuple(aliases.get(row.id, ())),
                exchange_mic=row.exchange_mic,
                country=row.country,
                currency=row.currency,
                benchmark=row.benchmark,
                listed_on=row.listed_on,
                delisted_on=row.delisted_on,
                isin=row.isin,
            )
        )
    links = tuple(
        CorporateLinkRecord(
            entity_name=link.entity_name,
            aliases=tuple(link.aliases or ()),
            symbol=symbols[link.security_id],
            relation=LinkRole(link.relation),
            source=link.source,
        )
        for link in session.scalars(select(CorporateLink).order_by(CorporateLink.id))
        if link.security_id in symbols
    )
    exposures = tuple(
        ExposureRecord(
            symbol=symbols[row.security_id],
            counterparty=row.counterparty,
            relation=CounterpartyRole(row.relation),
            weight=row.weight,
            source=row.source,
            year=row.year,
        )
        for row in session.scalars(select(Exposure).order_by(Exposure.id))
        if row.security_id in symbols
    )
    from monitor.matching.gleif import ownership_links

    links += tuple(link for link in ownership_links(session, symbols) if link not in links)
    return Universe(tuple(securities), links, exposures)


def build_matcher(session: Session, settings: MatchingSettings | None = None) -> Matcher:
    """Seed if needed, snapshot the universe and index it: the one-off cost before matching a rule.

    Indexes are shared by content within a process (``MatchIndex.cached``), so every database holding the shipped
    universe (a test suite's, a backfill's and the daemon's own) builds its index once.
    """
    ensure_seed_universe(session, market=(settings or MatchingSettings()).market_universe)
    index = MatchIndex.cached(load_universe(session))
    log.info("match_index_ready", **index.stats)
    return Matcher(index, settings)


def stored_matcher(session: Session, cache_dir: Path, settings: MatchingSettings | None = None) -> Matcher:
    """A matcher over the index file of the stored universe's current version, written first if there is none.

    What a cold ``monitor match`` uses: once the file exists, opening it costs milliseconds whatever the size of
    the universe, and a match reads only its candidates' rows.
    """
    from monitor.matching.persisted import StoredIndex, index_path, write_index

    ensure_seed_universe(session, market=(settings or MatchingSettings()).market_universe)
    path = index_path(cache_dir, universe_version(session))
    if not path.exists():
        index = MatchIndex.cached(load_universe(session))
        write_index(index, path)
        log.info("match_index_written", path=str(path), **index.stats)
        for stale in cache_dir.glob("match-index-*.sqlite"):
            if stale != path:
                stale.unlink(missing_ok=True)  # an older universe's file: no reader wants it any more
    return Matcher(StoredIndex(path), settings)


def listing_action_from_row(row: ListingActionRow) -> ListingAction:
    return ListingAction(
        action=ActionKind(row.action),
        entity_name=row.entity_name,
        aliases=tuple(row.aliases or ()),
        country=row.country or None,
        country_iso=row.country_iso,
        addresses=tuple(row.addresses or ()),
        license_requirement=row.license_requirement,
        license_review_policy=row.license_review_policy,
        federal_register_citation=row.federal_register_citation,
        source=FeedName(row.source),
    )


def save_matches(session: Session, listing_action_id: int, matches: Sequence[Match], *, replace: bool = False) -> int:
    """Upsert the matches of one stored listing action on (action, security, relation).

    With ``replace`` the action's stored matches that are no longer found are deleted (a re-screen after the
    universe changed); otherwise earlier matches stay. A match whose symbol is not stored is logged and skipped.
    """
    if not replace:
        return save_matches_many(session, {listing_action_id: matches})
    ids = _symbol_ids(session, (match.symbol for match in matches))
    rows = _match_rows(listing_action_id, matches, ids)
    if replace:
        keep = {(row["security_id"], row["relation"]) for row in rows}
        stored = session.execute(
            select(MatchRow.id, MatchRow.security_id, MatchRow.relation).where(
                MatchRow.listing_action_id == listing_action_id
            )
        )
        stale = [ident for ident, security_id, relation in stored if (security_id, relation) not in keep]
        if stale:
            session.execute(delete(MatchRow).where(MatchRow.id.in_(stale)))
    return upsert(session, MatchRow, rows, key=["listing_action_id", "security_id", "relation"])


def save_matches_many(session: Session, matches_by_action: Mapping[int, Sequence[Match]]) -> int:
    """``save_matches`` for several listing actions at once (a rule's entities): one symbol lookup, one upsert."""
    ids = _symbol_ids(session, (match.symbol for matches in matches_by_action.values() for match in matches))
    rows = [row for action_id, matches in matches_by_action.items() for row in _match_rows(action_id, matches, ids)]
    return upsert(session, MatchRow, rows, key=["listing_action_id", "security_id", "relation"])


def _match_rows(listing_action_id: int, matches: Sequence[Match], ids: Mapping[str, int]) -> list[dict[str, Any]]:
    rows = []
    for match in matches:
        if match.symbol not in ids:
            log.warning("match_symbol_not_stored", symbol=match.symbol, listing_action_id=listing_action_id)
            continue
        rows.append(
            {
                "listing_action_id": listing_action_id,
                "security_id": ids[match.symbol],
                "relation": match.relation.value,
                "score": match.score,
                "confirmed": match.confirmed,
                "method": match.method,
                "reason": match.reason,
                "weight": match.weight,
                "features": dict(match.features),
            }
        )
    return rows


def match_listing_actions(
    session: Session, matcher: Matcher, listing_action_ids: Iterable[int], *, replace: bool = False
) -> dict[int, list[Match]]:
    """Match stored listing actions and store the results; one bad action is logged and skipped, never fatal."""
    wanted = list(listing_action_ids)
    results: dict[int, list[Match]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in session.scalars(select(ListingActionRow).where(ListingActionRow.id.in_(chunk))):
            try:
                matches = matcher.match(listing_action_from_row(row))
            except (ValueError, KeyError) as exc:
                log.error("listing_action_match_failed", listing_action_id=row.id, error=str(exc))
                continue
            save_matches(session, row.id, matches, replace=replace)
            results[row.id] = matches
            log.info(
                "listing_action_matched",
                listing_action_id=row.id,
                entity=row.entity_name,
                confirmed=sum(m.confirmed for m in matches),
                review=sum(not m.confirmed for m in matches),
            )
    return results
