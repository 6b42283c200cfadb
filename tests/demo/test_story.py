"""``monitor demo``: the October 2019 story replayed offline from the package's own data, told correctly."""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import re
import shutil
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from alerts.delivery import DeliveryWorker
from monitor.cli import main
from monitor.clock import NEW_YORK
from monitor.commands import _common
from monitor.commands.compose import build_sinks
from monitor.commands.compose import demo as build_demo
from monitor.commands.demo_cmd import show
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables import AlertRow
from monitor.demo.story import DemoResult, StoryLine, demo_data, demo_settings
from monitor.report import ReportFiles
from tests.fakes.slack_server import FakeSlack

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_tells_the_october_2019_story(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One replay (about 20 s), with ``--json``: the story as data on stdout, the narration and the alerts as a
    person watching sees them on stderr. The table the story makes without ``--json`` is ``test_the_story_table_*``."""
    monkeypatch.setattr(_common.err_console, "_width", 200)  # one line per header, whatever the terminal
    out = tmp_path / "report"
    code = main(["demo", "--out", str(out), "--keep-database", "--json"])
    captured = capsys.readouterr()
    printed = captured.err
    assert code == 0, printed[-3000:]
    body = json.loads(captured.out)  # the JSON alone on stdout

    # Detection at the special filing after the US close, with the entities the filing text names.
    detected = printed.index("Mon 2019-10-07 16:15:15 ET · public inspection: FR Doc 2019-22210 filed, 28 entities")
    card = printed[detected:]
    assert "Addition of Certain Entities to the Entity List: " in card
    assert "28 entities (28 added), full list in the reply" in card
    assert "Published: the text confirms the filing" in card
    # Day-0 follow-ups after each exchange's close, Shenzhen first, then New York; both after the detection.
    shenzhen = printed.index("Tue 2019-10-08 03:30:30 ET · Shanghai/Shenzhen close: day0")
    new_york = printed.index("Tue 2019-10-08 16:30:30 ET · New York close: day0")
    assert detected < shenzhen < new_york
    assert printed.index("Wed 2019-10-09 06:05:00 ET · Federal Register: FR Doc 2019-22210 published") > new_york

    assert (body["rule"], body["start"], body["end"]) == (
        "2019-22210",
        "2019-10-01T00:00:00-04:00",  # New York time, with its offset
        "2019-10-26T00:00:00-04:00",  # the end of 10-25
    )
    lines = {line["name"]: line for line in body["story"]}
    for halted in ("Hikvision", "Dahua"):  # suspended on day 0 and the next session, first traded on 10-10
        assert (lines[halted]["day0"], lines[halted]["halted"], lines[halted]["reaction_date"]) == (
            "2019-10-08",
            ["2019-10-08", "2019-10-09"],
            "2019-10-10",
        )
    for traded in ("iFlytek", "Meiya Pico", "Ambarella"):  # day 0 is 10-08 everywhere, and they traded on it
        assert (lines[traded]["day0"], lines[traded]["halted"], lines[traded]["reaction_date"]) == (
            "2019-10-08",
            [],
            "2019-10-08",
        )
    ambarella = lines["Ambarella"]
    assert round(ambarella["reaction_ar"], 3) == -0.074  # the reported ~12% after-hours drop, market-adjusted
    assert (ambarella["symbol"], ambarella["relation"], ambarella["window"]) == ("AMBA", "supplier", [-5, 5])
    assert (lines["SenseTime"]["status"], lines["SenseTime"]["car"]) == ("listed_later", None)  # listed in 2021
    assert "/" not in lines["Techpoint"]["reason"]  # no price file: said without the temporary directory

    assert body["report"]["html"] == str(out / "report.html")
    assert body["log"] == str(out / "demo.log")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "2019-22210" in html
    assert "data:image/png;base64," in html
    with (out / "report.csv").open(encoding="utf-8") as handle:
        by_symbol = {row["symbol"]: row for row in csv.DictReader(handle)}
    assert (body["report"]["events"], body["report"]["rows"]) == (1, len(by_symbol))
    assert {line["symbol"] for line in body["story"]} == set(by_symbol)
    assert by_symbol["002415.SZ"]["reaction_date"] == "2019-10-10"
    assert by_symbol["AMBA"]["status"] == "complete"
    assert len(list((out / "charts").glob("*.png"))) >= 8  # one chart per follow-up, as the console sink saves them

    # Its own database, never the user's: the configured one stays untouched, the demo's is where it says.
    assert not (tmp_path / "data" / "monitor.db").exists()
    kept = Path(body["database"])
    engine = make_engine(f"sqlite:///{kept}")
    with session_factory(engine)() as session:
        keys = session.scalars(select(AlertRow.dedup_key)).all()
        assert len(keys) == 11  # the card, its entity-list reply, the reconcile reply, 4 follow-ups on 2 exchanges
        assert "event:1:g:all:entities" in keys
        assert "event:1:g:all:reconciled" in keys
    engine.dispose()
    assert body["alerts"] == len(keys)  # each delivered once, to the console
    shutil.rmtree(kept.parent)  # kept on request: the test cleans up after itself


def story_result(out: Path) -> DemoResult:
    """Three lines as the replay tells them (values of the shipped October 2019 run) and one not studied."""

    def line(symbol: str, name: str, relation: str, **values: Any) -> StoryLine:
        defaults: dict[str, Any] = {
            "issuer": name, "exchange": "XSHE", "status": "complete", "day0": date(2019, 10, 8), "halted": (),
            "reaction_date": date(2019, 10, 8), "reaction_ar": None, "car_first_days": None, "window": (-5, 5),
            "car_window": None, "car_t": None, "reason": None,
        }  # fmt: skip
        return StoryLine(symbol=symbol, name=name, relation=relation, **{**defaults, **values})

    lines = [
        line("002415.SZ", "Hikvision", "direct", halted=(date(2019, 10, 8), date(2019, 10, 9)),
             reaction_date=date(2019, 10, 10), reaction_ar=-0.0645, car_first_days=-0.0645, car_window=-0.1277,
             car_t=-1.89),
        line("AMBA", "Ambarella", "supplier", exchange="XNAS", reaction_ar=-0.0738, car_first_days=-0.0883,
             car_window=-0.1681, car_t=-2.01),
        line("300188.SZ", "Meiya Pico", "direct", reaction_ar=-0.0228, car_first_days=0.0157, car_window=-0.0625,
             car_t=-0.78),
        line("6697.T", "Techpoint", "supplier", exchange="XTKS", status="insufficient_data",
             reason="no prices for 6697.T"),
    ]  # fmt: skip
    return DemoResult(
        alerts=11,
        steps=148,
        story=lines,
        report=ReportFiles(out / "report.html", out / "report.csv", events=1, rows=4),
    )


def test_the_story_table_fits_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    show(story_result(tmp_path))
    printed = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    lines = printed.splitlines()
    table = [text for text in lines if not text.startswith(("report: ", "csv: "))]  # paths stay one piece
    assert max(len(text) for text in table) <= 80, max(table, key=len)
    assert "…" not in printed
    rows = {text.split()[0]: text for text in lines if re.match(r"\s*(002415\.SZ|AMBA|300188\.SZ) ", text)}
    assert set(rows) == {"002415.SZ", "AMBA", "300188.SZ"}  # each security's identifiers whole, on its first line
    for row in rows.values():
        assert "2019-10-08" in row  # day 0
    assert "10-08 " in rows["AMBA"]  # traded on day 0
    assert "-7.4%" in rows["AMBA"]
    assert {"CAR", "[-5,+5]", "(t)"} <= set(printed.split())  # the header may wrap between its words, never cut
    assert "6697.T Techpoint: not studied (no prices for 6697.T)" in printed
    assert f"report: {tmp_path / 'report.html'}" in printed


def test_the_story_table_piped_is_tab_separated(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    show(story_result(tmp_path))
    printed = capsys.readouterr().out
    table = [text.split("\t") for text in printed.splitlines() if not text.startswith("#")]
    assert table[0] == [
        "symbol", "security", "relation", "day 0", "traded", "first-trade AR", "CAR [0,+1]", "CAR [-5,+5] (t)",
    ]  # fmt: skip
    assert table[1] == [
        "002415.SZ", "Hikvision", "direct", "2019-10-08", "halted 10-08, 10-09; first trade 10-10", "-6.5%", "-6.5%",
        "-12.8% (-1.89)",
    ]  # fmt: skip
    assert [row[0] for row in table[1:]] == ["002415.SZ", "AMBA", "300188.SZ"]
    assert "# 6697.T Techpoint: not studied (no prices for 6697.T)" in printed
    assert f"# report: {tmp_path / 'report.html'}" in printed


def test_alerts_go_to_slack_when_a_token_is_configured(tmp_path: Path) -> None:
    with FakeSlack() as slack, demo_data() as data:
        base = Settings(data_dir=tmp_path, slack=slack.settings(), alerts={"charts": False})
        settings = demo_settings(base, data_dir=tmp_path, prices=data / "prices")
        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        sessions = session_factory(engine)
        demo = build_demo(sessions, settings, data=data, console=Console(file=io.StringIO()))
        worker = DeliveryWorker(sessions, build_sinks(settings), settings=settings, clock=demo.clock)
        result = demo.run(
            lambda: worker.run_once().sent, out_dir=tmp_path / "out", until=datetime(2019, 10, 8, 4, tzinfo=NEW_YORK)
        )
        engine.dispose()
        [card] = slack.top_level()
        replies = slack.thread(slack.channel, card["ts"])
    assert result.alerts == 3
    assert "28 entities" in card["text"]
    assert "002415.SZ" in card["text"]  # the notification names the top tickers
    shown = json.dumps(card)  # the card, at the filing (from the PI text's table), names what the rule moves
    assert all(symbol in shown for symbol in ("002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ", "AMBA")), shown
    # The entity list first, then Shenzhen's day-0 follow-up, both threaded under the card, each once.
    keys = [reply["metadata"]["event_payload"]["dedup_key"] for reply in replies]
    assert keys == ["event:1:g:all:entities", "event:1:g:XSHG:day0"]
    assert "Hangzhou Hikvision Digital Technology Co., Ltd." in str(replies[0]["blocks"])
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1, "event:1:g:all:entities": 1, "event:1:g:XSHG:day0": 1}


def test_the_demo_data_ships_with_the_package() -> None:
    """Every file the demo reads is matched by the package-data globs, so a fresh install can run it."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    patterns = globs["monitor.demo"]
    package = ROOT / "monitor" / "demo"
    files = [p.relative_to(package).as_posix() for p in (package / "data").rglob("*") if p.is_file()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
    assert "data/*.csv" in globs["monitor.backfill"]
