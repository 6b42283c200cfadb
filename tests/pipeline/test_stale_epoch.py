"""A stale epoch in a published record's ``public_inspection_pdf_url`` never dates a new rule in the past (issue 16,
item 7).

The PI record's own ``pdf_url`` is never read for a time (``tests/e2e/test_stale_epoch.py`` covers that path); the
hole was the published record: ``FrDocumentRecord.to_document`` took any ``?<epoch>`` as the filing time, so a rule
first seen at publication was dated 2015, aged past ``max_alert_age`` and never carded, and a filing we had seen on
public inspection without a ``filed_at`` was re-dated to 2015 when its publication arrived.

Inputs: the saved responses of FR Doc 2019-22210 (REAL) with the epoch of ``public_inspection_pdf_url`` replaced by
a stale one (SYNTHETIC edit); in some cases the XML's ``[FR Doc. … Filed 10-7-19; 4:15 pm]`` line is removed and the
PI record's ``filed_at`` blanked (SYNTHETIC edits), so the only other signals are the publication date and our own
sighting. Expected times are worked out by hand: publication 2019-10-09 06:00 EDT = 10:00 UTC; the filing
2019-10-07 16:15 EDT = 20:15 UTC.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables import AlertRow, EventRow
from monitor.feeds.wiring import build_clients, build_poller
from monitor.models import AnnouncementSource, FeedName
from monitor.pipeline import Pipeline
from monitor.prices.calendars import calendars_from_settings
from monitor.prices.sources import CsvDirectorySource
from tests.conftest import SHARED_DATA, event_by_number
from tests.recent_prices import recent_prices

RULE_DIR = SHARED_DATA / "feeds" / "entity_list_2019-22210"
REAL_EPOCH = "?1570479300"  # 2019-10-07 20:15 UTC
STALE_2015 = "?1420070400"  # 2015-01-01 00:00 UTC: years before the filing
STALE_DAYS = "?1569700800"  # 2019-09-28 20:00 UTC: ten days before publication, within any plausible lead
PUBLISHED = datetime(2019, 10, 9, 10, 0, tzinfo=UTC)
FILED = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)
SIGHTED = datetime(2019, 10, 7, 20, 20, tzinfo=UTC)


def saved_rule(tmp_path: Path, epoch: str, *, frdoc: bool, pi_filed_at: bool) -> Path:
    """The rule's saved responses with ``epoch`` in the published records' PI PDF URL."""
    directory = tmp_path / "saved"
    shutil.copytree(RULE_DIR, directory)
    for name in ("documents_search.json", "document_2019-22210.json"):
        path = directory / name
        text = path.read_text(encoding="utf-8")
        assert REAL_EPOCH in text
        path.write_text(text.replace(REAL_EPOCH, epoch), encoding="utf-8")
    if not frdoc:
        xml = directory / "2019-22210.xml"
        text = xml.read_text(encoding="utf-8")
        line = "<FRDOC>[FR Doc. 2019-22210 Filed 10-7-19; 4:15 pm]</FRDOC>"
        assert line in text
        xml.write_text(text.replace(line, ""), encoding="utf-8")
    issue = json.loads((directory / "public_inspection_2019-10-07.json").read_text(encoding="utf-8"))
    if not pi_filed_at:
        for record in issue["results"]:
            record["filed_at"] = None
    (directory / "public_inspection_current.json").write_text(json.dumps(issue), encoding="utf-8")
    return directory


class Daemon:
    """The daemon's poll-then-pipeline step on saved responses and a simulated clock."""

    def __init__(self, sessions: sessionmaker[Session], tmp_path: Path, source: Path, start: datetime) -> None:
        settings = Settings(data_dir=tmp_path, prices={"source": f"dir:{recent_prices()}"}, study={"placebo_draws": 0})
        self.clock = SimulatedClock(start)
        clients = build_clients(settings, source=f"dir:{source}", clock=self.clock, sleep=lambda _: None)
        self.poller = build_poller(settings, sessions, self.clock, clients)
        self.pipeline = Pipeline(
            sessions,
            settings,
            self.clock,
            calendars=calendars_from_settings(settings),
            price_source=CsvDirectorySource(recent_prices()),
        )

    def poll(self, feed: FeedName) -> None:
        self.pipeline.handle(self.poller.poll(feed).arrivals)


def detected_cards(sessions: sessionmaker[Session], event: EventRow) -> list[str]:
    with sessions() as session:
        keys = session.scalars(select(AlertRow.dedup_key).where(AlertRow.dedup_key.like(f"event:{event.id}:%")))
        return [key for key in keys if key.endswith(":detected")]


@pytest.mark.parametrize(
    ("frdoc", "expected_at", "expected_source"),
    [
        (True, FILED, AnnouncementSource.PI_FILED_AT),  # the rule's own FRDOC line still dates the filing
        (False, PUBLISHED, AnnouncementSource.PUBLICATION),
    ],
    ids=["frdoc", "no_frdoc"],
)
def test_a_rule_first_seen_at_publication_is_not_dated_by_a_stale_epoch(
    sessions: sessionmaker[Session],
    tmp_path: Path,
    frdoc: bool,
    expected_at: datetime,
    expected_source: AnnouncementSource,
) -> None:
    source = saved_rule(tmp_path, STALE_2015, frdoc=frdoc, pi_filed_at=True)
    daemon = Daemon(sessions, tmp_path, source, datetime(2019, 10, 9, 10, 5, tzinfo=UTC))
    daemon.poll(FeedName.DOCUMENTS)
    event = event_by_number(sessions, "2019-22210")
    assert (event.announced_at, event.announced_source) == (expected_at, expected_source.value)
    assert event.alerts_enabled
    assert len(detected_cards(sessions, event)) == 1


@pytest.mark.parametrize("epoch", [STALE_2015, STALE_DAYS], ids=["years", "days"])
def test_a_filing_seen_on_public_inspection_keeps_its_date_when_published_with_a_stale_epoch(
    sessions: sessionmaker[Session], tmp_path: Path, epoch: str
) -> None:
    source = saved_rule(tmp_path, epoch, frdoc=False, pi_filed_at=False)
    daemon = Daemon(sessions, tmp_path, source, SIGHTED)
    daemon.poll(FeedName.PUBLIC_INSPECTION)
    event = event_by_number(sessions, "2019-22210")
    assert (event.announced_at, event.announced_source) == (SIGHTED, AnnouncementSource.FIRST_SEEN.value)
    assert len(detected_cards(sessions, event)) == 1

    daemon.clock.set(datetime(2019, 10, 9, 10, 5, tzinfo=UTC))
    daemon.poll(FeedName.DOCUMENTS)
    event = event_by_number(sessions, "2019-22210")
    assert (event.announced_at, event.announced_source) == (SIGHTED, AnnouncementSource.FIRST_SEEN.value)
    assert event.alerts_enabled


def test_a_plausible_epoch_still_dates_a_rule_first_seen_at_publication(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = saved_rule(tmp_path, REAL_EPOCH, frdoc=False, pi_filed_at=True)
    daemon = Daemon(sessions, tmp_path, source, datetime(2019, 10, 9, 10, 5, tzinfo=UTC))
    daemon.poll(FeedName.DOCUMENTS)
    event = event_by_number(sessions, "2019-22210")
    assert (event.announced_at, event.announced_source) == (FILED, AnnouncementSource.PI_FILED_AT.value)
