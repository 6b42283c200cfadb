"""Ownership from GLEIF (Level 2 relationship records), cached in the database and turned into parent and
subsidiary links of listings: an entity GLEIF says consolidates a listed company is its parent, one it says the
listed company consolidates is its subsidiary. Never fetched at match time.

The GLEIF API (``api.gleif.org/api/v1``, JSON:API, no key, about 60 requests a minute) answers:

- ``/lei-records?filter[isin]=ISIN``: ``{"data": [{"type": "lei-records", "id": LEI, "attributes": {"lei",
  "entity": {"legalName": {"name", "language"}, "otherNames": [{"name", "type"}], "transliteratedOtherNames": [...],
  "legalAddress": {"country"}, ...}, "registration": {...}}}], "meta": {"pagination": ...}}``: a listing's issuer;
- ``/lei-records/{LEI}/direct-parent-relationship`` (and ``ultimate-``): ``{"data": {"type": "relationship-records",
  "attributes": {"relationship": {"startNode": {"id", "type": "LEI"}, "endNode": {"id", "type"}, "type":
  "IS_DIRECTLY_CONSOLIDATED_BY", "status": "ACTIVE", "periods": [{"startDate", "endDate", "type"}]},
  "registration": {...}}}}``, 404 when the entity reports an exception instead of a parent;
- ``/lei-records/{LEI}`` for a parent's names, ``/lei-records/{LEI}/direct-children`` for subsidiaries.

BIS's affiliates rule extends the Entity List to entities 50% or more owned by listed parties; GLEIF's accounting
consolidation is control (normally more than half), so a listed company consolidated by a listed entity is shown
as restricted under that rule, with the path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.tables import LeiRecord, LeiRelationship, SecurityLei, SecurityRow
from monitor.db.upsert import upsert
from monitor.errors import FeedUnavailable
from monitor.logs import get_logger
from monitor.matching.records import CorporateLinkRecord, LinkRole

log = get_logger(__name__)
GLEIF_URL = "https://api.gleif.org/api/v1"
CONSOLIDATION = {"IS_DIRECTLY_CONSOLIDATED_BY": "direct", "IS_ULTIMATELY_CONSOLIDATED_BY": "ultimate"}
SOURCE_PREFIX = "GLEIF"


@dataclass(frozen=True)
class LeiEntity:
    lei: str
    legal_name: str
    other_names: tuple[str, ...] = ()
    country: str | None = None


@dataclass(frozen=True)
class Consolidation:
    child: str
    parent: str
    kind: str  # direct | ultimate
    start: date | None = None


def parse_lei_record(record: Mapping[str, Any]) -> LeiEntity | None:
    """One ``lei-records`` resource; None when it lacks an LEI or a legal name."""
    attributes = record.get("attributes") or {}
    entity = attributes.get("entity") or {}
    lei = str(attributes.get("lei") or record.get("id") or "").strip()
    name = str((entity.get("legalName") or {}).get("name") or "").strip()
    if not lei or not name:
        return None
    others = [
        str(item.get("name") or "").strip()
        for key in ("otherNames", "transliteratedOtherNames")
        for item in entity.get(key) or []
        if isinstance(item, dict)
    ]
    country = (entity.get("legalAddress") or {}).get("country")
    return LeiEntity(lei, name, tuple(dict.fromkeys(o for o in others if o and o != name)), country or None)


def parse_lei_records(payload: Mapping[str, Any]) -> list[LeiEntity]:
    data = payload.get("data")
    records = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    return [entity for entity in (parse_lei_record(record) for record in records) if entity is not None]


def parse_relationship(payload: Mapping[str, Any]) -> Consolidation | None:
    """An active consolidation from a ``relationship-records`` answer; None for other kinds or ended ones."""
    data = payload.get("data") if "data" in payload else payload
    relationship = ((data or {}).get("attributes") or {}).get("relationship") or {}
    kind = CONSOLIDATION.get(str(relationship.get("type") or relationship.get("relationshipType") or ""))
    status = str(relationship.get("status") or relationship.get("relationshipStatus") or "ACTIVE")
    child = str((relationship.get("startNode") or {}).get("id") or "")
    parent = str((relationship.get("endNode") or {}).get("id") or "")
    if kind is None or status != "ACTIVE" or not child or not parent or child == parent:
        return None
    start = None
    for period in relationship.get("periods") or []:
        text = str(period.get("startDate") or "")[:10]
        if period.get("type", "RELATIONSHIP_PERIOD") == "RELATIONSHIP_PERIOD" and text:
            start = date.fromisoformat(text)
    return Consolidation(child, parent, kind, start)


@dataclass(frozen=True)
class GleifReport:
    listings: int
    leis: int
    relationships: int


def refresh_from_gleif(
    session: Session,
    client: Any,
    *,
    base_url: str = GLEIF_URL,
    symbols: Iterable[str] | None = None,
    limit: int | None = None,
    pause: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> GleifReport:
    """For each stored listing with an ISIN: its issuer's LEI, parents (direct, ultimate) and direct children."""
    query = select(SecurityRow.id, SecurityRow.symbol, SecurityRow.isin).where(SecurityRow.isin.is_not(None))
    if symbols is not None:
        query = query.where(SecurityRow.symbol.in_(list(symbols)))
    rows = session.execute(query.order_by(SecurityRow.symbol)).all()[:limit]

    def get(path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        sleep(pause)  # GLEIF asks for about one request a second
        response = client.get(f"{base_url}{path}", params=params, headers={"Accept": "application/vnd.api+json"})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise FeedUnavailable(f"GLEIF {path}: HTTP {response.status_code}", url=f"{base_url}{path}")
        answer: dict[str, Any] = response.json()
        return answer

    entities: dict[str, LeiEntity] = {}
    links: list[Consolidation] = []
    listing_leis: list[dict[str, Any]] = []
    for security_id, symbol, isin in rows:
        found = parse_lei_records(get("/lei-records", {"filter[isin]": str(isin)}) or {})
        if not found:
            log.info("gleif_no_lei", symbol=symbol, isin=isin)
            continue
        issuer = found[0]
        entities[issuer.lei] = issuer
        listing_leis.append({"security_id": security_id, "lei": issuer.lei})
        for kind in ("direct", "ultimate"):
            consolidation = parse_relationship(get(f"/lei-records/{issuer.lei}/{kind}-parent-relationship") or {})
            if consolidation is None:
                continue
            links.append(consolidation)
            if consolidation.parent not in entities:
                entities.update(
                    (e.lei, e) for e in parse_lei_records(get(f"/lei-records/{consolidation.parent}") or {})
                )
        for child in parse_lei_records(get(f"/lei-records/{issuer.lei}/direct-children", {"page[size]": "200"}) or {}):
            entities[child.lei] = child
            links.append(Consolidation(child.lei, issuer.lei, "direct"))
    upsert(
        session,
        LeiRecord,
        [
            {"lei": e.lei, "legal_name": e.legal_name, "other_names": list(e.other_names), "country": e.country}
            for e in entities.values()
        ],
        key=["lei"],
    )
    upsert(session, SecurityLei, listing_leis, key=["security_id"])
    upsert(
        session,
        LeiRelationship,
        [{"child_lei": c.child, "parent_lei": c.parent, "kind": c.kind, "start_date": c.start} for c in links],
        key=["child_lei", "parent_lei", "kind"],
    )
    report = GleifReport(len(rows), len(listing_leis), len(links))
    log.info("gleif_refresh_done", listings=report.listings, leis=report.leis, relationships=report.relationships)
    return report


def ownership_links(session: Session, symbols: Mapping[int, str]) -> tuple[CorporateLinkRecord, ...]:
    """Parent and subsidiary links of stored listings from the cached GLEIF relationships, with their path."""
    lei_of = {
        security_id: lei for security_id, lei in session.execute(select(SecurityLei.security_id, SecurityLei.lei))
    }
    if not lei_of:
        return ()
    listed = {lei: security_id for security_id, lei in lei_of.items() if security_id in symbols}
    names = {record.lei: record for record in session.scalars(select(LeiRecord))}
    found: list[CorporateLinkRecord] = []
    for relation in session.scalars(select(LeiRelationship).order_by(LeiRelationship.id)):
        for lei, other, role in (
            (relation.child_lei, relation.parent_lei, LinkRole.PARENT),
            (relation.parent_lei, relation.child_lei, LinkRole.SUBSIDIARY),
        ):
            if lei not in listed or other not in names or other in listed:
                continue
            record, issuer = names[other], names.get(lei)
            child, parent = (issuer, record) if role is LinkRole.PARENT else (record, issuer)
            path = (
                f"{SOURCE_PREFIX}: {child.legal_name if child else relation.child_lei} ({relation.child_lei}) is "
                f"{relation.kind}ly consolidated by {parent.legal_name if parent else relation.parent_lei} "
                f"({relation.parent_lei})"
            )
            found.append(
                CorporateLinkRecord(
                    entity_name=record.legal_name,
                    aliases=tuple(record.other_names or ()),
                    symbol=symbols[listed[lei]],
                    relation=role,
                    source=path,
                )
            )
    return tuple(dict.fromkeys(found))
