"""Soak: ``monitor run`` SIGKILLed and restarted again and again while rules are filed; nothing lost, nothing twice.

    python -m benchmarks.daemon --soak [--cycles 20] [--seed 5]

Each cycle starts the daemon on the same SQLite database (the same replay anchor, so simulated time carries on),
files one more rule on the local public-inspection issue (the 2019 rule under a new document number, SYNTHETIC
copies; earlier filings stay listed, as on the real issue), and SIGKILLs the daemon at a random moment within ten
seconds: while it polls, runs the pipeline, or posts. Every third cycle Slack is slow (the card's post lands 3 s
after it was sent, the client gives up after 1 s), so kills also land while a post is in flight. After the last
cycle a daemon runs until every filing's card is in the channel (or three minutes pass), then stops on SIGTERM.

Lost: filings without a card at the end. Duplicated: messages beyond the first per alert dedup key.
``alerts.claim_timeout_seconds`` keeps its default (600 s): a restarted daemon takes over the claims of its
SIGKILLed predecessor at once (issue 16 item 4), so a card whose post a kill cut short is looked up and sent by the
next daemon, not after the timeout.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._table import Row
from tests.e2e.feed_server import FeedServer
from tests.e2e.harness import FILED_AT, RULE_DIR, DaemonProcess, Replay, daemon_env, dedup_key, quiet_feeds
from tests.fakes.slack_server import FakeSlack, Fault
from tests.feeds.test_raw_text import rule_2019_as_text

FINAL_WAIT_SECONDS = 180.0


def publish_filings(feeds: FeedServer, numbers: list[str]) -> None:
    """The public-inspection issue listing every filing so far, each with its raw text."""
    issue = json.loads((RULE_DIR / "public_inspection_2019-10-07.json").read_text(encoding="utf-8"))
    template = issue["results"][0]
    records: list[dict[str, Any]] = []
    for number in numbers:
        digits = number.replace("-", "")
        feeds.publish(
            f"public_inspection_{digits[:4]}-{digits[4:]}.txt", rule_2019_as_text().replace("2019-22210", number)
        )
        record = json.loads(json.dumps(template))
        record["document_number"] = number
        record["pdf_url"] = f"{feeds.base}/{number}.pdf"
        record["raw_text_url"] = f"{feeds.base}/public-inspection/raw_text/{digits[:3]}/{digits[3:6]}/{digits[6:]}.txt"
        records.append(record)
    issue["results"] = records
    issue["count"] = len(records)
    issue["special_filings_updated_at"] = datetime.now(UTC).isoformat()  # a new cursor: the issue changed
    feeds.publish(
        "public_inspection_current.json", json.dumps(issue).replace("https://www.federalregister.gov", feeds.base)
    )


def cards(slack: FakeSlack) -> dict[str, int]:
    """Detected cards in the channel per document number named in them."""
    found: dict[str, int] = {}
    for message in slack.top_level():
        key = dedup_key(message) or ""
        if key.endswith(":detected"):
            shown = json.dumps(message)
            for number in set(_numbers(shown)):
                found[number] = found.get(number, 0) + 1
    return found


def _numbers(text: str) -> list[str]:
    return re.findall(r"2019-2[0-9]{4}", text)


@dataclass(frozen=True)
class SoakResult:
    cycles: int
    filed: int
    lost: list[str]
    duplicated: int
    alerts: int
    seconds: float


def soak(workdir: Path, cycles: int, rng: random.Random) -> SoakResult:
    started = time.monotonic()
    numbers: list[str] = []
    with FeedServer(workdir / "feeds") as feeds, FakeSlack() as slack:
        quiet_feeds(feeds)
        replay = Replay(FILED_AT + timedelta(minutes=1), 1.0, time.time())
        env = daemon_env(workdir, feeds, slack)
        for cycle in range(cycles):
            daemon = DaemonProcess(env, workdir / f"daemon{cycle:02d}.log", args=replay.args())
            try:
                daemon.start()
                daemon.wait_started(timeout=90)
                if cycle % 3 == 2:
                    slack.fail("chat.postMessage", Fault.lands_late(3.0))
                numbers.append(f"2019-{24000 + 7 * cycle}")
                publish_filings(feeds, numbers)
                time.sleep(rng.uniform(0.5, 10.0))
            finally:
                daemon.stop_quietly()  # SIGKILL
            done = len(set(numbers) & set(cards(slack)))
            print(f"cycle {cycle + 1:2}: filed {numbers[-1]}, killed; filings with a card so far {done}", flush=True)
        final = DaemonProcess(env, workdir / "final.log", args=replay.args())
        try:
            final.start()
            final.wait_started(timeout=90)
            deadline = time.monotonic() + FINAL_WAIT_SECONDS
            while time.monotonic() < deadline and set(numbers) - set(cards(slack)):
                time.sleep(0.5)
            time.sleep(5)  # room for a late duplicate
            final.terminate()
        finally:
            final.stop_quietly()
        counts = slack.dedup_keys()
        lost = sorted(set(numbers) - set(cards(slack)))
    return SoakResult(
        cycles=cycles,
        filed=len(numbers),
        lost=lost,
        duplicated=sum(n - 1 for n in counts.values()),
        alerts=len(counts),
        seconds=time.monotonic() - started,
    )


def soak_rows(result: SoakResult) -> list[Row]:
    return [
        Row("SIGKILL/restart cycles", str(result.cycles), "20", result.cycles >= 20),
        Row("rules filed", str(result.filed), ""),
        Row("distinct alerts in Slack", str(result.alerts), ""),
        Row("lost alerts (filings without a card)", str(len(result.lost)), "0", not result.lost),
        Row("duplicated alerts (extra messages)", str(result.duplicated), "0", result.duplicated == 0),
        Row("soak wall time", f"{result.seconds:.0f} s", ""),
    ]
