"""``monitor demo``: the October 2019 story replayed offline from the package's own data, told correctly."""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import re
import shutil
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from alerts.delivery import DeliveryWorker
from monitor.cli import main
from monitor.clock import NEW_YORK
from monitor.commands import _common
from monitor.commands.compose import build_sinks
from monitor.commands.compose import demo as build_demo
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables import AlertRow
from monitor.demo.story import demo_data, demo_settings
from tests.fakes.slack_server import FakeSlack

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_tells_the_october_2019_story(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_common.console, "_width", 200)  # one line per row, whatever the terminal
    out = tmp_path / "report"
    code = main(["demo", "--out", str(out), "--keep-database"])
    printed = capsys.readouterr().out
    assert code == 0, printed[-3000:]

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

    story = printed[printed.index("Story") :]
    rows = {line.split()[2]: line for line in story.splitlines() if re.match(r"│ \S+ \S+", line)}
    for name in ("Hikvision", "Dahua", "iFlytek", "Meiya", "Ambarella"):
        assert name in rows, story
    for halted in ("Hikvision", "Dahua"):
        assert "halted 10-08, 10-09; first trade 10-10" in rows[halted]
    for traded in ("iFlytek", "Meiya", "Ambarella"):
        assert "2019-10-08 │ 2019-10-08" in rows[traded]  # day 0 is 10-08 everywhere, and they traded on it
    assert re.search(r"-7\.4%", rows["Ambarella"])  # the reported ~12% after-hours drop, market-adjusted at the close

    report = Path(re.search(r"report: (\S+)", printed).group(1))  # type: ignore[union-attr]
    assert report == out / "report.html"
    html = report.read_text(encoding="utf-8")
    assert "2019-22210" in html
    assert "data:image/png;base64," in html
    with (out / "report.csv").open(encoding="utf-8") as handle:
        by_symbol = {row["symbol"]: row for row in csv.DictReader(handle)}
    assert by_symbol["002415.SZ"]["reaction_date"] == "2019-10-10"
    assert by_symbol["AMBA"]["status"] == "complete"
    assert len(list((out / "charts").glob("*.png"))) >= 8  # one chart per follow-up, as the console sink saves them

    # Its own database, never the user's: the configured one stays untouched, the demo's is where it says.
    assert not (tmp_path / "data" / "monitor.db").exists()
    kept = Path(re.search(r"database: (\S+monitor\.db)", printed).group(1))  # type: ignore[union-attr]
    engine = make_engine(f"sqlite:///{kept}")
    with session_factory(engine)() as session:
        keys = session.scalars(select(AlertRow.dedup_key)).all()
        assert len(keys) == 11  # the card, its entity-list reply, the reconcile reply, 4 follow-ups on 2 exchanges
        assert "event:1:g:all:entities" in keys
        assert "event:1:g:all:reconciled" in keys
    engine.dispose()
    shutil.rmtree(kept.parent)  # kept on request: the test cleans up after itself


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
