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
