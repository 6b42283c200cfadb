"""Matching listed entities to the securities they move: normalization, a pure matcher and its index, and the
universe (listings, curated corporate links, exposures) in CSV files and in the database.

The pipeline needs three calls::

    ensure_seed_universe(session)                      # at start-up: ship the seed into an empty universe
    matcher = build_matcher(session, settings.matching) # snapshot + index, once per rule or re-screen
    match_listing_actions(session, matcher, ids)       # match stored listing actions and upsert their matches

``Matcher.match(ListingAction) -> list[Match]`` is pure and can be used on its own (``MatchIndex.build(universe)``).
``MatchIndex.names()`` yields every name of the universe (legal names, aliases, pinyin, initials) normalized by
``normalize_name``, with the symbols each leads to: the vocabulary name spotting in rule text works from.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.matching.csv_files import read_universe, seed_universe
    from monitor.matching.index import MatchIndex, NameOrigin, UniverseName
    from monitor.matching.matcher import Matcher
    from monitor.matching.normalize import NameForm, normalize_name
    from monitor.matching.records import CorporateLinkRecord, CounterpartyRole, ExposureRecord, LinkRole, Universe
    from monitor.matching.store import (
        apply_seed,
        build_matcher,
        ensure_seed_universe,
        load_universe,
        match_listing_actions,
        save_exposures,
        save_links,
        save_matches,
        save_matches_many,
        save_securities,
    )

# Where each public name lives. Imported on first use (PEP 562), so that importing one submodule (the matcher, for
# a cold ``monitor match``) does not import the storage layer, SQLAlchemy's ORM and every table with it.
_HOMES = {
    "read_universe": "csv_files",
    "seed_universe": "csv_files",
    "MatchIndex": "index",
    "NameOrigin": "index",
    "UniverseName": "index",
    "Matcher": "matcher",
    "NameForm": "normalize",
    "normalize_name": "normalize",
    "CorporateLinkRecord": "records",
    "CounterpartyRole": "records",
    "ExposureRecord": "records",
    "LinkRole": "records",
    "Universe": "records",
    "apply_seed": "store",
    "build_matcher": "store",
    "ensure_seed_universe": "store",
    "load_universe": "store",
    "match_listing_actions": "store",
    "save_exposures": "store",
    "save_links": "store",
    "save_matches": "store",
    "save_matches_many": "store",
    "save_securities": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CorporateLinkRecord",
    "CounterpartyRole",
    "ExposureRecord",
    "LinkRole",
    "MatchIndex",
    "Matcher",
    "NameForm",
    "NameOrigin",
    "Universe",
    "UniverseName",
    "apply_seed",
    "build_matcher",
    "ensure_seed_universe",
    "load_universe",
    "match_listing_actions",
    "normalize_name",
    "read_universe",
    "save_exposures",
    "save_links",
    "save_matches",
    "save_matches_many",
    "save_securities",
    "seed_universe",
]


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
