"""GLEIF ownership: relationship records cached in the database become parent and subsidiary links with their path.

The answers below follow GLEIF's API shapes (JSON:API ``lei-records`` and ``relationship-records`` resources, 404 for
a reporting exception; see monitor/matching/gleif.py). No GLEIF answer could be recorded here (no network): the
LEIs are made up (well-formed, marked TEST), the names are the companies' real ones, and the relations are public
facts (CETHIK Group is Hikvision's controlling shareholder and CETC controls CETHIK; SMIC Beijing is SMIC's fab).
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from monitor.matching.gleif import parse_lei_records, parse_relationship, refresh_from_gleif
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.matching.records import Universe
from monitor.matching.store import load_universe, save_securities
from monitor.models import Relation, Security

HIKVISION, CETHIK, CETC = "TEST00HIKVISION00001", "TEST000CETHIK0000002", "TEST00000CETC0000003"
SMIC, SMIC_BEIJING = "TEST0000SMIC00000004", "TEST00SMICBEIJING005"


def record(lei: str, name: str, *others: str, country: str = "CN") -> dict[str, Any]:
    return {
        "type": "lei-records",
        "id": lei,
        "attributes": {
            "lei": lei,
            "entity": {
                "legalName": {"name": name, "language": "en"},
                "otherNames": [
                    {"name": other, "language": "zh", "type": "ALTERNATIVE_LANGUAGE_LEGAL_NAME"} for other in others
                ],
                "transliteratedOtherNames": [],
                "legalAddress": {"country": country},
                "status": "ACTIVE",
            },
            "registration": {"status": "ISSUED", "corroborationLevel": "FULLY_CORROBORATED"},
        },
    }


def relationship(child: str, parent: str, kind: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "data": {
            "type": "relationship-records",
            "id": f"{child}|LEI|{kind}",
            "attributes": {
                "relationship": {
                    "startNode": {"id": child, "type": "LEI"},
                    "endNode": {"id": parent, "type": "LEI"},
                    "type": kind,
                    "status": status,
                    "periods": [{"startDate": "2010-05-28T00:00:00Z", "endDate": None, "type": "RELATIONSHIP_PERIOD"}],
                },
                "registration": {"status": "PUBLISHED", "corroborationLevel": "FULLY_CORROBORATED"},
            },
        }
    }


ANSWERS: dict[str, Any] = {
    "/lei-records?filter[isin]=CNE100000PM8": {
        "data": [record(HIKVISION, "Hangzhou Hikvision Digital Technology Co., Ltd.")]
    },
    "/lei-records?filter[isin]=KYG8020E1199": {
        "data": [record(SMIC, "Semiconductor Manufacturing International Corporation")]
    },
    f"/lei-records/{HIKVISION}/direct-parent-relationship": relationship(
        HIKVISION, CETHIK, "IS_DIRECTLY_CONSOLIDATED_BY"
    ),
    f"/lei-records/{HIKVISION}/ultimate-parent-relationship": relationship(
        HIKVISION, CETC, "IS_ULTIMATELY_CONSOLIDATED_BY"
    ),
    f"/lei-records/{CETHIK}": {"data": record(CETHIK, "CETHIK Group Co., Ltd.", "中电海康集团有限公司")},
    f"/lei-records/{CETC}": {
        "data": record(CETC, "China Electronics Technology Group Corporation", "中国电子科技集团有限公司")
    },
    f"/lei-records/{HIKVISION}/direct-children": {"data": []},
    f"/lei-records/{SMIC}/direct-children": {
        "data": [record(SMIC_BEIJING, "Semiconductor Manufacturing International (Beijing) Corporation")]
    },
}


def serve(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/api/v1")
    key = f"{path}?filter[isin]={request.url.params['filter[isin]']}" if "filter[isin]" in request.url.params else path
    if key not in ANSWERS:
        return httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found"}]})
    return httpx.Response(200, json=ANSWERS[key])


def listing(symbol: str, name: str, isin: str) -> Security:
    return Security(
        symbol=symbol,
        issuer_name=name,
        exchange_mic="XSHE",
        country="CN",
        currency="CNY",
        benchmark="000300.SS",
        isin=isin,
    )


def test_parsers_keep_active_consolidations_only() -> None:
    assert parse_relationship(relationship("A", "B", "IS_DIRECTLY_CONSOLIDATED_BY")).kind == "direct"  # type: ignore[union-attr]
    assert parse_relationship(relationship("A", "B", "IS_DIRECTLY_CONSOLIDATED_BY", status="INACTIVE")) is None
    assert parse_relationship(relationship("A", "B", "IS_FUND-MANAGED_BY")) is None
    [cetc] = parse_lei_records(
        {"data": record(CETC, "China Electronics Technology Group Corporation", "中国电子科技集团有限公司")}
    )
    assert cetc.other_names == ("中国电子科技集团有限公司",)


def test_ownership_from_gleif_makes_parents_and_subsidiaries_with_their_path(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        save_securities(
            session,
            [
                listing("002415.SZ", "Hangzhou Hikvision Digital Technology Co., Ltd.", "CNE100000PM8"),
                listing("0981.HK", "Semiconductor Manufacturing International Corporation", "KYG8020E1199"),
            ],
            source="test",
        )
        with httpx.Client(transport=httpx.MockTransport(serve)) as client:
            report = refresh_from_gleif(session, client, base_url="https://api.gleif.org/api/v1", pause=0)
    assert (report.listings, report.leis, report.relationships) == (2, 2, 3)
    with sessions() as session:
        universe = load_universe(session)
    matcher = Matcher(MatchIndex.build(Universe(universe.securities, universe.links)))
    [parent] = matcher.match_name("China Electronics Technology Group Corporation")
    assert (parent.symbol, parent.relation, parent.confirmed, parent.method) == (
        "002415.SZ",
        Relation.PARENT,
        True,
        "ownership",
    )
    assert "is ultimately consolidated by China Electronics Technology Group Corporation" in parent.reason
    assert "BIS's affiliates rule" in parent.reason
    [by_chinese_name] = matcher.match_name("中电海康集团有限公司")
    assert (by_chinese_name.symbol, by_chinese_name.relation) == ("002415.SZ", Relation.PARENT)
    [fab] = matcher.match_name("Semiconductor Manufacturing International (Beijing) Corporation")
    assert (fab.symbol, fab.relation, fab.confirmed) == ("0981.HK", Relation.SUBSIDIARY, True)
    assert "is directly consolidated by Semiconductor Manufacturing International Corporation" in fab.reason
