"""The universe and matches in SQLite and PostgreSQL: seeding, round trips, idempotent imports and match upserts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import MatchingSettings
from monitor.db.tables import CorporateLink, Document, Exposure, ListingActionRow, MatchRow, SecurityAlias, SecurityRow
from monitor.matching.csv_files import parse_exposures, parse_links, seed_universe
from monitor.matching.store import (
    apply_seed,
    build_matcher,
    ensure_seed_universe,
    load_universe,
    match_listing_actions,
    save_exposures,
    save_links,
    save_matches,
    save_securities,
)
from monitor.models import Relation, Security
from tests.conftest import SHARED_DATA

RULE_2019 = SHARED_DATA / "feeds" / "entity_list_2019-22210" / "expected_entities.json"


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def store_rule(session: Session) -> dict[str, int]:
    """The October 2019 rule's 28 listing actions, stored as the feeds would store them."""
    document = Document(
        document_number="2019-22210",
        source="fr",
        title="Addition of Certain Entities to the Entity List",
        first_seen_at=datetime(2019, 10, 7, 21, 0, tzinfo=UTC),
    )
    session.add(document)
    session.flush()
    ids: dict[str, int] = {}
    for seq, entity in enumerate(json.loads(RULE_2019.read_text(encoding="utf-8"))["entities"]):
        row = ListingActionRow(
            document_id=document.id,
            seq=seq,
            action=entity["action"],
            entity_name=entity["name"],
            aliases=entity["aliases"],
            country=entity["country"],
            country_iso=entity["country_iso"],
            addresses=entity["addresses"],
            source="fr",
        )
        session.add(row)
        session.flush()
        ids[entity["name"]] = row.id
    return ids


def test_seed_loads_once_into_an_empty_universe(sessions: sessionmaker[Session]) -> None:
    """The curated seed (93 listings) and, under it, the shipped market universe (5,197 FinanceDatabase shares)."""
    with sessions.begin() as session:
        report = ensure_seed_universe(session)
    assert report is not None
    assert (report.securities, report.links, report.exposures, report.market) == (93, 55, 21, 5197)
    with sessions.begin() as session:
        assert ensure_seed_universe(session) is None
        held = count(session, SecurityRow)
        assert held > 5000
        assert (count(session, CorporateLink), count(session, Exposure)) == (55, 21)
        curated = session.execute(select(SecurityRow).where(SecurityRow.symbol == "000977.SZ")).scalar_one()
        assert (curated.issuer_name, curated.source) == ("Inspur Electronic Information Industry Co., Ltd.", "seed")
        aliases = set(session.scalars(select(SecurityAlias.alias).where(SecurityAlias.security_id == curated.id)))
        assert "IEIT SYSTEMS Co., Ltd." in aliases  # the market list's name joins the curated row as an alias


def test_universe_round_trips_through_the_database(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        apply_seed(session, market=False)
    with sessions() as session:
        loaded = load_universe(session)
    seed = seed_universe()
    assert sorted(loaded.securities, key=lambda s: s.symbol) == sorted(seed.securities, key=lambda s: s.symbol)
    assert sorted(loaded.links, key=repr) == sorted(seed.links, key=repr)
    assert sorted(loaded.exposures, key=repr) == sorted(seed.exposures, key=repr)


def test_reimport_updates_in_place_and_adds_aliases(sessions: sessionmaker[Session]) -> None:
    first = Security(
        symbol="AMBA",
        issuer_name="Ambarella Inc",
        aliases=("Ambarella",),
        exchange_mic="XNAS",
        country="US",
        currency="USD",
        benchmark="^GSPC",
    )
    second = first.model_copy(update={"issuer_name": "Ambarella, Inc.", "aliases": ("Ambarella", "安霸")})
    with sessions.begin() as session:
        save_securities(session, [first], source="import:a.csv")
        save_securities(session, [second], source="import:b.csv")
    with sessions() as session:
        row = session.execute(select(SecurityRow)).scalar_one()
        assert (row.issuer_name, row.source) == ("Ambarella, Inc.", "import:b.csv")
        assert sorted(session.scalars(select(SecurityAlias.alias))) == ["Ambarella", "安霸"]


def test_keep_curated_refresh_never_overwrites_and_keeps_the_new_name_as_alias(sessions: sessionmaker[Session]) -> None:
    curated = Security(
        symbol="DQ",
        issuer_name="Daqo New Energy Corp.",
        exchange_mic="XNYS",
        country="CN",
        currency="USD",
        benchmark="^GSPC",
    )
    refreshed = Security(
        symbol="DQ",
        issuer_name="DAQO NEW ENERGY CORP",
        exchange_mic="XNYS",
        country="US",
        currency="USD",
        benchmark="^GSPC",
    )
    with sessions.begin() as session:
        save_securities(session, [curated], source="seed")
        save_securities(session, [refreshed], source="sec", keep_curated=True)
    with sessions() as session:
        row = session.execute(select(SecurityRow)).scalar_one()
        assert (row.issuer_name, row.country, row.source) == ("Daqo New Energy Corp.", "CN", "seed")
        assert list(session.scalars(select(SecurityAlias.alias))) == ["DAQO NEW ENERGY CORP"]


def test_links_and_exposures_to_unknown_tickers_are_reported_by_line(sessions: sessionmaker[Session]) -> None:
    links = parse_links(
        "entity_name,aliases,ticker,relation,source\nCETC,,002415.SZ,parent,x\nGhost Parent,,NOPE,parent,x\n"
    )
    exposures = parse_exposures(
        "ticker,counterparty,relation,weight,source\nAMBA,Hikvision,customer,,x\nNOPE,Hikvision,customer,,x\n"
    )
    with sessions.begin() as session:
        ensure_seed_universe(session)
        written, link_errors = save_links(session, links.rows)
        assert written == 1
        written, exposure_errors = save_exposures(session, exposures.rows)
        assert written == 1
        written_again, _ = save_exposures(session, exposures.rows)  # idempotent: same key, updated in place
        assert written_again == 1
    assert [(e.line, e.message) for e in link_errors] == [(3, "ticker NOPE is not in the universe; import it first")]
    assert [e.line for e in exposure_errors] == [3]
    with sessions() as session:
        assert count(session, Exposure) == 22


def test_rule_matches_are_stored_and_rematching_is_idempotent(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids = store_rule(session)
        matcher = build_matcher(session, MatchingSettings())  # seeds the empty universe on the way
        results = match_listing_actions(session, matcher, ids.values())
    assert len(results) == 28
    with sessions.begin() as session:
        first = count(session, MatchRow)
        match_listing_actions(session, build_matcher(session), ids.values())
        assert count(session, MatchRow) == first
        stored = session.execute(
            select(SecurityRow.symbol, MatchRow.relation, MatchRow.confirmed, MatchRow.reason, MatchRow.features)
            .join(SecurityRow, SecurityRow.id == MatchRow.security_id)
            .where(MatchRow.listing_action_id == ids["Hangzhou Hikvision Digital Technology Co., Ltd."])
        ).all()
    by_key = {
        (symbol, relation): (confirmed, reason, features) for symbol, relation, confirmed, reason, features in stored
    }
    assert by_key[("002415.SZ", "direct")][0] is True
    assert by_key[("AMBA", "supplier")][0] is True
    assert by_key[("AMBA", "supplier")][2]["counterparty"] == "Hangzhou Hikvision Digital Technology Co., Ltd."
    with sessions() as session:
        bureau = ids["Urumqi Municipal Public Security Bureau"]
        assert session.execute(select(func.count()).where(MatchRow.listing_action_id == bureau)).scalar_one() == 0
        yixin = (
            session.execute(
                select(MatchRow.confirmed).where(
                    MatchRow.listing_action_id == ids["Yixin Science and Technology Co. Ltd."]
                )
            )
            .scalars()
            .all()
        )
        assert yixin == [False]  # review band: stored, unconfirmed


def test_replace_removes_matches_no_longer_found(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids = store_rule(session)
        matcher = build_matcher(session)
        action_id = ids["Dahua Technology"]
        matches = matcher.match_name("Dahua Technology", ["Zhejiang Dahua Technology Co., Ltd."])
        assert save_matches(session, action_id, matches) == len(matches)
        direct_only = [m for m in matches if m.relation is Relation.DIRECT]
        save_matches(session, action_id, direct_only)
        assert count(session, MatchRow) == len(matches)  # without replace, earlier rows stay
        save_matches(session, action_id, direct_only, replace=True)
        assert session.execute(select(MatchRow.relation)).scalars().all() == ["direct"]
