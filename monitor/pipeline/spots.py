"""Names spotted in a filing's text, merged with what the parsed entities matched.

The table parser can be defeated by a layout nobody has seen; a listed company the rule names anywhere (prose, a
table cell, a footnote) must still reach the trader. The spotter is built once per universe version (the matcher's
fingerprint), never per document. A spot whose security no parsed entity already matched becomes a review-band
match with relation "named in the text", ranked below every confirmed match, its sentence as the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.feeds.spotting import NameSpotter
from monitor.models import Match, Relation, Security

SPOT_SCORE = 0.5  # a name in the text is evidence, not a confirmed link: below the auto-match threshold
MAX_REASON = 300


def build_spotter(securities: Iterable[Security]) -> NameSpotter[str]:
    """Every issuer name and alias of the universe, each standing for its symbol."""
    entries: list[tuple[str, str]] = []
    for security in securities:
        entries.append((security.issuer_name, security.symbol))
        entries.extend((alias, security.symbol) for alias in security.aliases)
    return NameSpotter.build(entries)


_SPOTTERS: dict[int, tuple[Any, NameSpotter[str]]] = {}  # id(index) -> (the index, kept alive; its spotter)
_SPOTTERS_LOCK = threading.Lock()


def spotter_for(index: Any) -> NameSpotter[str]:
    """``build_spotter`` over ``index.securities``, shared by every pipeline of the process holding that very index
    (``MatchIndex.cached`` hands the same one to all): the daemon's two pipelines build the automaton once."""
    with _SPOTTERS_LOCK:
        cached = _SPOTTERS.get(id(index))
        if cached is not None and cached[0] is index:
            return cached[1]
        spotter = build_spotter(index.securities.values())
        _SPOTTERS.clear()  # one kept, as for the index: an older universe's automaton is garbage
        _SPOTTERS[id(index)] = (index, spotter)
        return spotter


def spotted_matches(
    spotter: NameSpotter[str], text: str | None, matched: Mapping[str, Match], securities: Mapping[str, Security]
) -> list[Match]:
    """One match per security named in ``text`` that ``matched`` does not already hold, in text order."""
    if not text:
        return []
    found: dict[str, Match] = {}
    for spot in spotter.spot(text):
        symbol = spot.payload
        if symbol in matched or symbol in found or symbol not in securities:
            continue
        sentence = " ".join(spot.sentence.split())
        if len(sentence) > MAX_REASON:
            sentence = sentence[: MAX_REASON - 1] + "…"
        found[symbol] = Match(
            symbol=symbol,
            issuer=securities[symbol].issuer_name,
            relation=Relation.NAMED,
            score=SPOT_SCORE,
            confirmed=False,
            reason=f"named in the text: “{sentence}”",
            method="spotted",
            entity_name=spot.found,
            features={"spotted_name": spot.name},
        )
    return list(found.values())
