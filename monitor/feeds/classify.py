"""Is this BIS document an Entity List action? A pure decision with a reason a trader can read.

Every BIS document is stored; only the flagged ones become events. The rule errs towards flagging: a missed
rule costs a trade, a spurious one costs a glance. Titles name the Entity List in all real cases seen
("Addition of Certain Entities to the Entity List", "Revisions to the Entity List", "Removal From the Entity
List", "…; Entity List Modification"); abstracts catch the rest; public-inspection records only offer
table-of-contents subjects, so all of them are searched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.models import RegulatoryDocument

BIS_AGENCY_KEYS = frozenset({"industry-and-security-bureau", "bureau-of-industry-and-security"})
_ENTITY_LIST = re.compile(r"\bentity\s+list\b", re.IGNORECASE)
_ACTION_ON_LIST = re.compile(
    r"\b(add|adds|adding|addition|remov\w*|revis\w*|modif\w*|correct\w*)\b[^.]{0,200}?"
    r"\b(to|from|on|of)\s+the\s+entity\s+list\b",
    re.IGNORECASE,
)
_CORRECTION_NUMBER = re.compile(r"^[CR]\d+-", re.IGNORECASE)


@dataclass(frozen=True)
class Classification:
    is_bis: bool
    is_entity_list: bool
    reason: str


def is_bis(document: RegulatoryDocument) -> bool:
    return any(agency in BIS_AGENCY_KEYS for agency in document.agencies)


def classify(document: RegulatoryDocument, *, subjects: Iterable[str] = ()) -> Classification:
    """Decide from the metadata alone (no XML needed), so a filing is flagged the minute it appears."""
    if not is_bis(document):
        return Classification(False, False, "not a Bureau of Industry and Security document")
    kind = (document.document_type or "").lower()
    correction = kind == "correction" or bool(_CORRECTION_NUMBER.match(document.document_number))
    texts = [("title", document.title), *(("subject", s) for s in subjects)]
    named = next(((where, text) for where, text in texts if text and _ENTITY_LIST.search(text)), None)
    if kind in ("proposed rule", "prorule"):
        reason = "BIS proposed rule: proposals do not change the Entity List"
        return Classification(True, False, reason + (f" (its {named[0]} mentions it)" if named else ""))
    if named is not None:
        where, text = named
        label = "correction to an Entity List rule" if correction else "Entity List action"
        return Classification(True, True, f"BIS {label}: {where} names the Entity List ({_quote(text)})")
    for field, value in (("abstract", document.abstract), ("action", document.action)):
        if value and _ACTION_ON_LIST.search(value):
            return Classification(True, True, f"BIS Entity List action: {field} changes the Entity List")
    if correction:
        return Classification(True, False, "BIS correction that does not concern the Entity List")
    return Classification(True, False, "BIS document that does not concern the Entity List")


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
