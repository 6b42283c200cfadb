"""Feeds benchmark: extraction speed on a 300-entity rule, and what a quiet poll cycle costs on the wire.

Run: ``python -m benchmarks.feeds``. The 300-entity rule is SYNTHETIC: the October 2019 rule's rows repeated
with numbered names; its PI text is that XML drawn in the Federal Register's fixed-width rendering by the
test renderer. The 50,000-name universe for spotting is SYNTHETIC (pinyin-like names with real legal forms).
The poll cycle runs against a real local HTTP server (127.0.0.1, port 0) that counts
requests and bytes per feed, with a fresh SQLite database.
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lxml import etree

from benchmarks._table import Row, best_of, report
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.feeds.entity_list import extract_from_xml
from monitor.feeds.text_rule import extract_from_rule_text
from monitor.feeds.wiring import build_clients, build_poller
from monitor.models import FeedName
from tests.paths import SHARED_DATA

DATA = SHARED_DATA / "feeds"
RULE = DATA / "entity_list_2019-22210" / "2019-22210.xml"


def synthetic_rule(entities: int) -> bytes:
    """The 2019 rule with its 28 data rows repeated and renamed until the table holds ``entities`` entries."""
    root = etree.fromstring(RULE.read_bytes())
    table = next(root.iter("GPOTABLE"))
    rows = [row for row in table.iter("ROW") if len(row) == 5 and row[0].get("I") == "22"]
    for row in rows:
        table.remove(row)
    for number in range(entities):
        row = copy.deepcopy(rows[number % len(rows)])
        entity = row[1]
        entity.text = (entity.text or "").replace(",", f" Unit {number},", 1)
        table.append(row)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def bis_search_page(base: str) -> dict[str, Any]:
    search = json.loads((DATA / "entity_list_2019-22210" / "documents_search.json").read_text())
    for item in search["results"]:
        item["full_text_xml_url"] = f"{base}/documents/full_text/xml/{item['document_number']}.xml"
    return dict(search)


class _Feeds:
    """What the local server answers, and what it counted per feed."""

    def __init__(self) -> None:
        self.search = b""  # set once the server's port is known
        self.xml = RULE.read_bytes()
        self.pi = (DATA / "fr_api_public_inspection_current_2026-10-02_trimmed.json").read_bytes()
        self.csv = (DATA / "csl_us_consolidated_sample.csv").read_bytes()
        self.requests: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()

    def answer(self, path: str, headers: dict[str, str]) -> tuple[str, int, dict[str, str], bytes]:
        if path.endswith("/documents.json"):
            return "fr", 200, {"Content-Type": "application/json"}, self.search
        if path.endswith(".xml"):
            return "fr", 200, {"Content-Type": "application/xml"}, self.xml
        if path.endswith("/current.json"):
            return "pi", 200, {"Content-Type": "application/json"}, self.pi
        if path.endswith("/consolidated.csv"):
            if headers.get("If-None-Match") == '"csl-1"':
                return "csl", 304, {}, b""
            return "csl", 200, {"Content-Type": "text/csv", "ETag": '"csl-1"'}, self.csv
        return "other", 404, {"Content-Type": "application/json"}, b'{"status":404}'


def serve(feeds: _Feeds) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            feed, status, headers, body = feeds.answer(self.path.split("?")[0], dict(self.headers.items()))
            feeds.requests[feed] += 1
            feeds.bytes[feed] += len(body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def quiet_poll_cycle() -> tuple[Counter[str], Counter[str], float]:
    feeds = _Feeds()
    server = serve(feeds)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feeds.search = json.dumps(bis_search_page(base)).encode()
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/bench.db")
        upgrade(engine)
        settings = Settings(federal_register_url=f"{base}/api/v1", csl_url=f"{base}/consolidated.csv")
        clock = SimulatedClock(datetime(2019, 10, 9, 11, tzinfo=UTC))
        clients = build_clients(settings, clock=clock)
        poller = build_poller(settings, session_factory(engine), clock, clients)
        for feed in FeedName:  # first cycle: everything is new (documents stored, CSL baseline)
            poller.poll(feed)
        feeds.requests.clear()
        feeds.bytes.clear()
        elapsed = best_of(1, lambda: [poller.poll(feed) for feed in FeedName])
        clients.close()
        engine.dispose()
    server.shutdown()
    server.server_close()
    return feeds.requests, feeds.bytes, elapsed


def pi_text_rule(entities: int) -> str:
    """The synthetic rule in the Federal Register's fixed-width text rendering, with PI placeholders."""
    from tests.feeds import renderings

    with tempfile.NamedTemporaryFile(suffix=".xml") as handle:
        handle.write(synthetic_rule(entities))
        handle.flush()
        model = renderings.as_public_inspection(renderings.load_rule(Path(handle.name)))
    return renderings.fr_text(model)


def synthetic_names(count: int, rng: random.Random) -> list[str]:
    """SYNTHETIC universe names: pinyin-like syllables, an industry word and a legal form (real names' shape)."""
    syllables = ["zhong", "xing", "hua", "wei", "tian", "an", "ke", "ji", "da", "tong", "xin", "rui", "hai", "kang"]
    words = ["Technology", "Electronics", "Semiconductor", "Optical", "Holdings", "Precision", "Software", "Materials"]
    forms = ["Co., Ltd.", "Inc.", "Group Co., Ltd.", "Corporation", "Limited"]
    names = set()
    while len(names) < count:
        stem = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).title()
        names.add(f"{stem} {rng.choice(words)} {rng.choice(forms)}")
    return sorted(names)


def spotting_figures() -> tuple[float, float, int, int]:
    """Index build over 50,000 names; one scan of a 200-page text (the 2019 rule's FR text repeated)."""
    from monitor.feeds.spotting import NameSpotter
    from tests.feeds import renderings

    names = [*synthetic_names(50_000, random.Random(7)), "Hangzhou Hikvision Digital Technology Co., Ltd."]
    start = time.perf_counter()
    spotter = NameSpotter.build((name, index) for index, name in enumerate(names))
    build = time.perf_counter() - start
    page = renderings.fr_text(renderings.load_rule(RULE))
    pages = len(page) // 3500  # a Federal Register page holds about 3,500 characters of text
    text = page * (200 // max(1, pages) + 1)
    text = text[: 200 * 3500]
    found: list[object] = []
    scan = best_of(3, lambda: found.append(len(spotter.spot(text))))
    return build, scan, len(text), int(str(found[-1]))


def main() -> bool:
    text_rule = pi_text_rule(300)
    assert len(extract_from_rule_text(text_rule).actions) == 300
    text_seconds = best_of(10, lambda: extract_from_rule_text(text_rule))
    build, scan, chars, spots = spotting_figures()
    rule = synthetic_rule(300)
    assert len(extract_from_xml(rule).actions) == 300
    seconds = best_of(20, lambda: extract_from_xml(rule))
    real = RULE.read_bytes()
    real_seconds = best_of(20, lambda: extract_from_xml(real))
    requests, sizes, cycle = quiet_poll_cycle()
    rows = [
        Row(
            f"extract 300-entity rule (synthetic, {len(rule) // 1024} KB)",
            f"{seconds * 1000:.1f} ms",
            "< 50 ms",
            seconds < 0.05,
        ),
        Row("extract the 28-entity 2019 rule", f"{real_seconds * 1000:.1f} ms", "", None),
        Row(
            f"parse 300-entity PI text, FR fixed-width rendering (synthetic, {len(text_rule) // 1024} KB)",
            f"{text_seconds * 1000:.1f} ms",
            "< 100 ms",
            text_seconds < 0.1,
        ),
        Row("name spotting: index build, 50,000 names (synthetic)", f"{build:.2f} s", "< 5 s", build < 5),
        Row(
            f"name spotting: 200-page text ({chars // 1000}k chars, {spots} spots) vs 50,000 names",
            f"{scan * 1000:.0f} ms",
            "< 200 ms",
            scan < 0.2,
        ),
    ]
    for feed in ("fr", "pi", "csl"):
        rows.append(Row(f"quiet poll: {feed} requests", str(requests[feed]), "1", requests[feed] == 1))
        rows.append(Row(f"quiet poll: {feed} response bytes", f"{sizes[feed]:,}", "", None))
    rows.append(Row("quiet poll cycle, all three feeds (local server)", f"{cycle * 1000:.0f} ms", "", None))
    return report("feeds", rows)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
