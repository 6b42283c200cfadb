"""Entity List destination headings ("CHINA, PEOPLE'S REPUBLIC OF", "RUSSIA", "BURMA") to ISO 3166 alpha-2.

pycountry knows the ISO names; BIS writes destinations its own way, so the headings pycountry cannot resolve
are listed here, each as BIS prints it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# BIS spellings pycountry does not resolve on its own.
_BIS_DESTINATIONS: dict[str, str] = {
    "china, people's republic of": "CN",
    "people's republic of china": "CN",
    "prc": "CN",
    "russia": "RU",
    "burma": "MM",
    "korea, north": "KP",
    "korea, democratic people's republic of": "KP",
    "korea, south": "KR",
    "korea, republic of": "KR",
    "south korea": "KR",
    "turkey": "TR",
    "türkiye": "TR",
    "macau": "MO",
    "macao": "MO",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "taiwan": "TW",
    "hong kong": "HK",
    "united kingdom": "GB",
    "u.a.e.": "AE",
    "uae": "AE",
    "czech republic": "CZ",
    "moldova": "MD",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "the netherlands": "NL",
    "kyrgyzstan": "KG",
}
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1024)
def country_iso(name: str | None) -> str | None:
    """ISO alpha-2 for a destination heading or address country, or None when unknown (never a guess)."""
    if not name:
        return None
    key = _SPACES.sub(" ", name.replace("\u2019", "'")).strip().strip(".").lower()
    if not key:
        return None
    if key in _BIS_DESTINATIONS:
        return _BIS_DESTINATIONS[key]
    if len(key) == 2 and key.isalpha():
        found = pycountry.countries.get(alpha_2=key.upper())
        return found.alpha_2 if found is not None else None
    candidates = [key]
    if ", " in key:  # "KOREA, REPUBLIC OF" style: try the reordered form too
        head, _, tail = key.partition(", ")
        candidates.append(f"{tail} {head}")
    for candidate in candidates:
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    return None
