"""The match index on disk gives the same matches as the index in memory, and a new universe version a new file."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import alembic_config, upgrade
from monitor.matching.csv_files import seed_universe
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher
from monitor.matching.persisted import StoredIndex, current_index, embedded_current_index, write_index
from monitor.matching.store import save_securities, stored_matcher, universe_version
from monitor.models import Security

NAMES = (
    "Hikvision",
    "Zhejiang Dahua Technology Co., Ltd.",
    "SMIC",
    "Semiconductor Manufacturing International (Beijing) Corporation",
    "China Electronics Technology Group Corporation",
    "Huawei Technologies Co., Ltd.",
    "Tianjin Shuguang Computer Industry",
    "Hikvison Digital",  # a misspelling: found through the one-deletion table
    "China Communications Construction Company Dredging Group",
    "Xinjiang Police College",
)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> tuple[MatchIndex, StoredIndex]:
    memory = MatchIndex.build(seed_universe())
    path = write_index(memory, tmp_path_factory.mktemp("index") / "seed.sqlite")
    return memory, StoredIndex(path)


@pytest.mark.parametrize("name", NAMES)
def test_stored_index_matches_like_the_one_in_memory(indexes: tuple[MatchIndex, StoredIndex], name: str) -> None:
    memory, stored = indexes
    assert Matcher(stored).match_name(name) == Matcher(memory).match_name(name)


# A listing no seed holds, with a name nothing else matches: adding it changes the universe's version.
ACME = Security(
    symbol="ACME",
    issuer_name="Acmezzz Widgets",
    exchange_mic="XNAS",
    country="US",
    currency="USD",
    benchmark="^GSPC",
)


def test_stored_index_answers_the_same_lookups(indexes: tuple[MatchIndex, StoredIndex]) -> None:
    memory, stored = indexes
    assert stored.stats == memory.stats
    assert stored.securities["002415.SZ"] == memory.securities["002415.SZ"]
    assert stored.weight("hikvision") == memory.weight("hikvision")
    assert stored.by_key.get("nosuchname", []) == []


def test_a_changed_universe_gets_a_new_file(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    tmp_path = tmp_path / "cache"
    with sessions.begin() as session:
        first = stored_matcher(session, tmp_path)
        version = universe_version(session)
    assert [m.symbol for m in first.match_name("Hikvision")][:1] == ["002415.SZ"]
    assert [path.name.endswith(f"{version}.sqlite") for path in tmp_path.iterdir()] == [True]
    with sessions.begin() as session:
        save_securities(session, [ACME], source="import:test")
        second = stored_matcher(session, tmp_path)
        assert universe_version(session) != version
    assert [m.symbol for m in second.match_name("Acmezzz Widgets")] == ["ACME"]
    assert len(list(tmp_path.glob("match-index-*.sqlite"))) == 1  # the older version's file is gone


def test_current_index_opens_only_the_file_of_the_current_version(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """What a cold ``monitor match`` asks first: None for an empty universe or an unwritten or stale file."""
    with sessions.begin() as session:
        assert current_index(session.connection(), tmp_path) is None  # empty: seed first
        stored_matcher(session, tmp_path)  # seeds and writes the file
    with sessions.begin() as session:
        opened = current_index(session.connection(), tmp_path)
    assert opened is not None
    assert [m.symbol for m in Matcher(opened).match_name("Hikvision")][:1] == ["002415.SZ"]
    opened.close()
    with sessions.begin() as session:
        save_securities(session, [ACME], source="import:test")
    with sessions.begin() as session:
        assert current_index(session.connection(), tmp_path) is None  # a new version: the old file is not used


def test_embedded_database_read_with_sqlite3_finds_the_same_file(tmp_path: Path) -> None:
    """The cold match's stdlib path and the engine path compute the same version, so they open the same file."""
    database = tmp_path / "monitor.db"
    cache = tmp_path / "cache"
    assert embedded_current_index(database, cache) is None  # no database yet
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    sessions = session_factory(engine)
    assert embedded_current_index(database, cache) is None  # an empty universe: seed first
    with sessions.begin() as session:
        stored_matcher(session, cache)
    opened = embedded_current_index(database, cache)
    assert opened is not None
    with engine.connect() as connection:
        through_engine = current_index(connection, cache)
    assert through_engine is not None
    assert opened.path == through_engine.path
    opened.close()
    through_engine.close()
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "-1")
    assert embedded_current_index(database, cache) is None  # not at the shipped head: the engine path upgrades it
    engine.dispose()
