"""``monitor run`` alerts on a public-inspection filing whose PDF URL carries a stale epoch (issue 16, item 7).

The Federal Register's PDF URLs carry a ``?<epoch>`` cache-buster that usually equals the filing time; a stale one
(here 2015-01-01, years before the filing) must not date a filing we see on public inspection now in the past, which
would age the event past ``max_alert_age`` and suppress its card for good. The filing is dated by the PI record's
``filed_at`` or, when the record has none, by our own first sighting.

Inputs: the PI issue is the shipped 2019-10-07 record (REAL) with its ``pdf_url`` given a stale epoch and, in one
variant, its ``filed_at`` removed (both edits SYNTHETIC); the raw text is the reconstructed 2019 rule. Robust on a
loaded machine: the filing is served only once the daemon answers /healthz; simulated time runs at real speed from
one minute after the filing.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import (
    FILED_AT,
    RULE_DIR,
    DaemonProcess,
    Replay,
    card,
    daemon_env,
    quiet_feeds,
    running,
    wait_for,
)
from tests.fakes.slack_server import FakeSlack
from tests.feeds.test_raw_text import rule_2019_as_text

pytestmark = pytest.mark.slow

STALE_EPOCH = 1420070400  # 2015-01-01T00:00:00Z


def stale_issue(server: FeedServer, *, keep_filed_at: bool) -> str:
    issue = json.loads((RULE_DIR / "public_inspection_2019-10-07.json").read_text(encoding="utf-8"))
    for record in issue["results"]:
        record["pdf_url"] = f"{server.base}/{record['document_number']}.pdf?{STALE_EPOCH}"
        if not keep_filed_at:
            record["filed_at"] = None
    return json.dumps(issue).replace("https://www.federalregister.gov", server.base)


@pytest.mark.parametrize("keep_filed_at", [True, False], ids=["filed_at", "no_filed_at"])
def test_a_filing_with_a_stale_pdf_epoch_still_gets_its_card(tmp_path: Path, keep_filed_at: bool) -> None:
    with FeedServer(tmp_path / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        replay = Replay(FILED_AT + timedelta(minutes=1), 1.0, time.time())
        daemon = DaemonProcess(daemon_env(tmp_path, feeds, slack), tmp_path / "daemon.log", args=replay.args())
        with running(daemon):
            daemon.wait_started(timeout=90)  # a loaded 2-core machine can take long to import and migrate
            feeds.publish("public_inspection_2019-22210.txt", rule_2019_as_text())
            feeds.publish("public_inspection_current.json", stale_issue(feeds, keep_filed_at=keep_filed_at))
            root = wait_for("the detected card", lambda: card(slack), timeout=60)
            code, _ = daemon.terminate()
        assert code == 0, daemon.logs()
        assert "event_too_old_to_alert" not in daemon.logs()
        assert "2015" not in root["text"], root["text"]
