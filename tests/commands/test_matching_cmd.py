"""``monitor match`` and ``monitor universe``: through the real CLI, on a fresh embedded database per test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import FIXTURES, SHARED_DATA

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

MATCHING = SHARED_DATA / "matching"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_match_json_seeds_the_database_on_first_use(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "match", "Sense Time", "--json")
    assert code == 0
    [only] = json.loads(out)
    assert {key: only[key] for key in ("ticker", "relation", "score", "issuer", "confirmed")} == {
        "ticker": "0020.HK",
        "relation": "direct",
        "score": 1.0,
        "issuer": "SenseTime Group Inc.",
        "confirmed": True,
    }
    assert only["reason"] == "entity name 'Sense Time' = issuer alias 'SenseTime'"


def test_match_with_aliases_from_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "match",
        "Dahua",
        "--alias",
        "Zhejiang Dahua Technology Co., Ltd.",
        "--universe",
        str(MATCHING / "universe_seed.csv"),
        "--exposures",
        str(MATCHING / "exposures_seed.csv"),
        "--json",
    )
    assert code == 0
    pairs = {(item["ticker"], item["relation"]) for item in json.loads(out)}
    assert {("002236.SZ", "direct"), ("AMBA", "supplier"), ("002415.SZ", "competitor")} <= pairs


def test_match_table_shows_status_and_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "match", "Yixin Science and Technology Co. Ltd.")
    assert code == 0
    assert "0 confirmed, 1 for review" in out
    assert "2858.HK" in out
    assert "review" in out
    assert "issuer alias 'Yixin'" in out
    code, out, _ = run(capsys, "match", "Urumqi Municipal Public Security Bureau")
    assert (code, out.strip()) == (
        0,
        "no match for 'Urumqi Municipal Public Security Bureau' above the review threshold (0.80)",
    )


def test_import_reports_bad_rows_by_line_and_loads_the_rest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(
        "issuer_name,aliases,ticker,exchange_mic,country,currency,benchmark\n"
        '"Megvii Technology Limited",Megvii|旷视科技,9999.HK,XHKG,CN,HKD,^HSI\n'
        ",,0001.HK,XHKG,CN,HKD,^HSI\n"
        "Bad Currency,,0002.HK,XHKG,CN,HKDOLLAR,^HSI\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "universe", "import", str(path))
    assert code == 1
    assert "loaded the shipped seed first (93 securities" in out
    assert "1 securities row(s) loaded" in out
    assert f"{path}:3: issuer_name is empty" in err
    assert f"{path}:4: currency 'HKDOLLAR' is not a code like CNY" in err
    code, out, _ = run(capsys, "match", "Megvii Technology", "--json")
    assert [(item["ticker"], item["confirmed"]) for item in json.loads(out)] == [("9999.HK", True)]


def test_import_links_and_exposures_by_header(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    links = tmp_path / "links.csv"
    links.write_text(
        "entity_name,aliases,ticker,relation,source\nHikvision Holdco,,002415.SZ,parent,test\n", encoding="utf-8"
    )
    exposures = tmp_path / "exposures.csv"
    exposures.write_text(
        "ticker,counterparty,relation,weight,source\nSTX,Hikvision Holdco,customer,0.05,test\n", encoding="utf-8"
    )
    assert run(capsys, "universe", "import", str(links))[0] == 0
    code, out, _ = run(capsys, "universe", "import", str(exposures))
    assert code == 0
    assert "1 exposures row(s) loaded" in out
    code, out, _ = run(capsys, "match", "Hikvision Holdco", "--json")
    pairs = {(item["ticker"], item["relation"], item["weight"]) for item in json.loads(out)}
    assert ("002415.SZ", "parent", None) in pairs
    assert ("STX", "supplier", 0.05) in pairs


def test_universe_list_filters_and_lists_links(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "universe", "list", "--search", "hikvision", "--json")
    assert code == 0
    assert [row["symbol"] for row in json.loads(out)] == ["002415.SZ"]
    code, out, _ = run(capsys, "universe", "list", "--links", "--search", "CETC", "--json")
    assert {row["symbol"] for row in json.loads(out)} >= {"002415.SZ", "002268.SZ", "002368.SZ", "600990.SS"}
    code, out, _ = run(capsys, "universe", "list", "--exposures", "--limit", "2")
    assert code == 0
    assert "2 of 21 row(s)" in out


@pytest.fixture
def sec_server() -> Iterator[str]:
    body = (FIXTURES / "matching" / "company_tickers_exchange.json").read_bytes()
    agents: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            agents.append(self.headers.get("User-Agent", ""))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/files/company_tickers_exchange.json"
    finally:
        server.shutdown()
        server.server_close()
    assert all("desk@example.com" in agent for agent in agents)


def test_refresh_sec_needs_a_contact_address(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "universe", "refresh-sec")
    assert code == 2
    assert "network.contact_email" in err
    assert "MONITOR_NETWORK__CONTACT_EMAIL" in err


def test_refresh_sec_against_a_local_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sec_server: str
) -> None:
    monkeypatch.setenv("MONITOR_NETWORK__CONTACT_EMAIL", "desk@example.com")
    monkeypatch.setenv("MONITOR_SEC_TICKERS_URL", sec_server)
    code, out, err = run(capsys, "universe", "refresh-sec")
    assert code == 0, err
    assert "11 listing(s) fetched, 9 securities upserted" in out
    code, out, _ = run(capsys, "universe", "list", "--search", "SONY", "--json")
    assert [row["symbol"] for row in json.loads(out)] == ["SONY"]


def test_seed_command_is_idempotent(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_MATCHING__MARKET_UNIVERSE", "true")
    for _ in range(2):
        code, out, _ = run(capsys, "universe", "seed")
        assert code == 0
        assert "93 securities, 55 corporate links, 21 exposures; market universe: 5197 listings" in out
    code, out, _ = run(capsys, "universe", "list", "--limit", "0", "--json")
    assert len(json.loads(out)) > 5000  # a fresh install holds the shipped market universe


def test_match_as_of_shows_a_security_listed_later(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "match", "Sense Time", "--as-of", "2019-10-07", "--json")
    assert code == 0
    [only] = json.loads(out)
    assert (only["ticker"], only["features"]["listing_status"]) == ("0020.HK", "listed_later")
    code, out, _ = run(capsys, "match", "Sense Time", "--as-of", "2019-10-07")
    assert code == 0
    assert "listed later" in out
    code, _, err = run(capsys, "match", "Sense Time", "--as-of", "07/10/2019")
    assert code != 0
    assert "--as-of '07/10/2019' is not a date like 2019-10-07" in err


# --- --json of the universe's write commands: one object alone on stdout, counts as integers ------------------------

SEED = {"securities": 93, "links": 55, "exposures": 21, "market": 0}  # the shipped seed; no market universe in tests


def test_import_json_lists_bad_rows_and_what_the_seed_wrote(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(
        "issuer_name,aliases,ticker,exchange_mic,country,currency,benchmark\n"
        '"Megvii Technology Limited",Megvii|旷视科技,9999.HK,XHKG,CN,HKD,^HSI\n'
        "Bad Currency,,0002.HK,XHKG,CN,HKDOLLAR,^HSI\n"
        ",,0001.HK,XHKG,CN,HKD,^HSI\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "universe", "import", str(path), "--json")
    assert code == 1  # bad rows: exit 1 as without --json, the rows themselves in the answer
    assert json.loads(out) == {
        "path": str(path),
        "kind": "securities",
        "loaded": 1,
        "written": 1,
        "bad_rows": 2,
        "errors": [
            {"line": 3, "message": "currency 'HKDOLLAR' is not a code like CNY"},
            {"line": 4, "message": "issuer_name is empty"},
        ],
        "seeded": SEED,
    }
    assert "HKDOLLAR" not in err  # in the answer, not repeated as text (stderr has the log lines only)

    links = tmp_path / "links.csv"
    links.write_text(
        "entity_name,aliases,ticker,relation,source\nHikvision Holdco,,002415.SZ,parent,test\n", encoding="utf-8"
    )
    code, out, _ = run(capsys, "universe", "import", str(links), "--json")
    assert code == 0
    assert json.loads(out) == {
        "path": str(links),
        "kind": "links",
        "loaded": 1,
        "written": 1,
        "bad_rows": 0,
        "errors": [],
        "seeded": None,  # the universe is no longer empty
    }


def test_seed_json(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):  # applied again, the same rows
        code, out, _ = run(capsys, "universe", "seed", "--json")
        assert code == 0
        assert json.loads(out) == SEED


def test_refresh_sec_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sec_server: str) -> None:
    monkeypatch.setenv("MONITOR_NETWORK__CONTACT_EMAIL", "desk@example.com")
    code, out, err = run(capsys, "universe", "refresh-sec", "--url", sec_server, "--json")
    assert code == 0, err
    # The fixture by hand: 12 rows, one with two fields (malformed); of the 11 listings HKVTY trades OTC and
    # "EXW WS" names no exchange, the other 9 are on Nasdaq, NYSE or Cboe; no exchange-less title names a held row.
    assert json.loads(out) == {
        "source": "sec",
        "url": sec_server,
        "fetched": 11,
        "securities": 9,
        "aliases_added": 0,
        "malformed": 1,
        "skipped": {"no_exchange": 1, "otc": 1, "unknown_exchange": 0, "bad_ticker": 0, "duplicate": 0},
    }


def test_refresh_json_from_a_saved_exchange_list(capsys: pytest.CaptureFixture[str]) -> None:
    saved = FIXTURES / "universe" / "sse_main.json"  # the SSE main board's answer: three A-share listings
    code, out, err = run(capsys, "universe", "refresh", "--source", "sse", "--path", str(saved), "--json")
    assert code == 0, err
    assert json.loads(out) == {"source": "sse", "read": 3, "written": 3, "skipped": {}}


def test_refresh_gleif_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """One listing with an ISIN, asked of a GLEIF that knows no LEI for it (404): one request, about a second."""
    listing = tmp_path / "isin.csv"
    listing.write_text(
        "issuer_name,aliases,ticker,exchange_mic,country,currency,benchmark,isin\n"
        '"Hangzhou Hikvision Digital Technology Co., Ltd.",,002415.SZ,XSHE,CN,CNY,000300.SS,CNE100000PM8\n',
        encoding="utf-8",
    )
    assert run(capsys, "universe", "import", str(listing))[0] == 0
    asked: list[str] = []

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"errors": [{"status": "404", "title": "Not Found"}]}'
            self.send_response(404)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
        code, out, err = run(capsys, "universe", "refresh", "--source", "gleif", "--url", base, "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, err
    assert json.loads(out) == {"source": "gleif", "listings": 1, "leis": 0, "relationships": 0}
    [request] = asked
    assert "CNE100000PM8" in request
