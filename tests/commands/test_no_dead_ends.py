"""No dead ends: a backfill whose rule failed to parse still writes the report of what could be studied and lists
what could not; ``report`` names an event that does not exist as such; ``study`` without prices says how to get
them instead of printing tables of dashes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from monitor.cli import main
from tests.backfill.conftest import FEEDS
from tests.backfill.conftest import trimmed_prices as trimmed_prices  # the real price files, cut to 2016-2020
from tests.conftest import SHARED_DATA
from tests.report.conftest import Backfilled
from tests.report.conftest import backfilled as backfilled  # the shared backfilled database

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

BROKEN = "2019-10616"  # its XML replaced by a truncated one, and no raw text saved: nothing can be extracted


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_backfill_report_skips_a_rule_that_failed_to_parse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, trimmed_prices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = Path(shutil.copytree(FEEDS, tmp_path / "feeds"))
    (feeds / f"{BROKEN}.xml").write_text("<RULE><broken", encoding="utf-8")
    monkeypatch.setenv("MONITOR_STUDY__PLACEBO_DRAWS", "20")
    code, out, err = run(
        capsys, "backfill", "--since", "2019-01-01", "--until", "2019-12-31", "--source", f"dir:{feeds}",
        "--prices", f"dir:{trimmed_prices}", "--report", str(tmp_path / "report"), "--no-filing-lookup", "--json",
    )  # fmt: skip
    body = json.loads(out)
    assert code == 1, err  # the broken rule is a failure a rerun may cure (its text may be published later)
    assert any(f["item"] == BROKEN and f["stage"] == "rule" for f in body["failures"])
    assert body["report"] == str(tmp_path / "report" / "report.html")
    [skipped] = body["report_not_studied"]
    assert skipped["event"].endswith(f"({BROKEN})")
    assert "not well-formed" in skipped["reason"]
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "<h2>Not studied</h2>" in html
    assert BROKEN in html.split("<h2>Not studied</h2>")[1].split("</section>")[0]
    assert "<h2>2019-22210" in html  # the rule that could be studied is reported in full
    broken_event = skipped["event"].split()[1]
    code, _, err = run(capsys, "report", broken_event, "--out", str(tmp_path / "again"))
    assert code == 2
    assert f"event {broken_event} ({BROKEN}) has nothing to report: its rule could not be parsed" in err


def test_report_of_an_event_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, backfilled: Backfilled
) -> None:
    code, _, err = run(capsys, "--database-url", backfilled.url, "report", "99", "--out", str(tmp_path))
    assert code == 2
    assert "no event 99: the stored events are 1, 2" in err
    assert "no stored study" not in err
    assert not (tmp_path / "report.html").exists()


def test_study_without_prices_says_how_to_get_them(capsys: pytest.CaptureFixture[str]) -> None:
    prices = SHARED_DATA / "prices"
    code, out, err = run(
        capsys, "study", "--event-time", "2019-10-07T20:30:00Z", "--symbols", "NOPE", "--prices-dir", str(prices)
    )
    assert code == 1
    assert out == ""  # no tables of dashes
    assert "nothing to study" in err
    assert "not studied: NOPE: insufficient data: NOPE: no file NOPE.csv" in err
    assert f"hint: --prices-dir reads one SYMBOL.csv per symbol (here {prices / 'NOPE.csv'})" in err


def test_study_of_an_unknown_ticker_from_the_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONITOR_PRICES__SOURCE", f"dir:{tmp_path}")
    code, out, err = run(capsys, "study", "--event-time", "2019-10-07T20:30:00Z", "--symbols", "NOPE")
    assert code == 1
    assert out == ""
    assert "hint: `monitor prices fetch NOPE` loads them into the price store" in err
