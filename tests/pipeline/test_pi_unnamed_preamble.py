"""At the filing, a rule whose preamble names no entity (as the December 2020 SMIC rule's "SMIC and ten of its
related entities") still yields the table's entities and the listed securities they hit, before any XML exists.

Input: RECONSTRUCTED. The 2019 XML with every preamble paragraph naming an entity replaced by a count
(``renderings.without_named_preamble``), with PI placeholders, set as the PI PDF and served as the Federal Register's
PI raw text; the PI issue record is the shipped reconstruction. Expected names: ``expected_entities.json``.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables import AlertRow
from monitor.feeds.wiring import build_clients, build_poller
from monitor.outbox import DetectedAlert, parse_alert
from monitor.pipeline import Pipeline
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from tests.conftest import SHARED_DATA
from tests.feeds import renderings as r
from tests.recent_prices import recent_prices

RULE_DIR = SHARED_DATA / "feeds" / "entity_list_2019-22210"
TARGETS = {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ", "AMBA"}


def test_a_preamble_naming_no_entity_still_names_the_tickers_at_the_filing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    model = r.without_named_preamble(r.as_public_inspection(r.load_rule(RULE_DIR / "2019-22210.xml")))
    text = r.fr_pi_raw_text(r.reading_order_pypdf(r.pi_pdf(model)))
    assert "Hikvision" not in text.split("Supplement No. 4 to part 744 is amended")[0]  # the preamble names none
    saved = tmp_path / "feeds"
    saved.mkdir()
    shutil.copy(RULE_DIR / "public_inspection_2019-10-07.json", saved)
    (saved / "public_inspection_2019-22210.txt").write_text(text, encoding="utf-8")

    settings = Settings(data_dir=tmp_path, prices={"source": f"dir:{recent_prices()}"}, study={"placebo_draws": 20})
    clock = SimulatedClock(datetime(2019, 10, 7, 20, 20, tzinfo=UTC))
    clients = build_clients(settings, source=f"dir:{saved}", clock=clock, sleep=lambda _: None)
    poller = build_poller(settings, sessions, clock, clients)
    pipeline = Pipeline(
        sessions,
        settings,
        clock,
        calendars=calendars_from_settings(settings),
        price_source=CsvDirectorySource(recent_prices()),
    )
    pipeline.handle(poller.poll_public_inspection(since=date(2019, 10, 7)).arrivals)

    with sessions() as session:
        alerts = [parse_alert(row.payload) for row in session.scalars(select(AlertRow))]
    [card] = [a for a in alerts if isinstance(a, DetectedAlert)]
    expected = json.loads((RULE_DIR / "expected_entities.json").read_text(encoding="utf-8"))
    assert card.based_on == "public_inspection"
    assert {e.name for e in card.entities} == {entry["name"] for entry in expected["entities"]}
    assert {line.symbol for line in card.securities} >= TARGETS
