"""``monitor report`` through the real CLI on a backfilled database: its rows are the study command's numbers."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from monitor.cli import main
from tests.report.conftest import Backfilled

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

WINDOWS = ("[0,0]", "[0,1]", "[-1,1]", "[0,3]", "[0,5]", "[-5,5]")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    return float(text) if text else None


def test_report_rows_match_the_study_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, backfilled: Backfilled
) -> None:
    code, out, err = run(capsys, "--database-url", backfilled.url, "report", "--all", "--out", str(tmp_path), "--json")
    assert code == 0, err
    written = json.loads(out)
    assert (written["events"], written["rows"]) == (2, 19)
    rows = _rows(Path(written["csv"]))
    html = Path(written["html"]).read_text(encoding="utf-8")
    by_event: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_event.setdefault(row["document_number"], []).append(row)
    assert set(by_event) == {"2019-10616", "2019-22210"}
    for number, members in by_event.items():
        symbols = [row["symbol"] for row in members]
        benchmarks = ",".join(f"{row['symbol']}={row['benchmark']}" for row in members)
        code, out, err = run(  # on the same database: its universe's listing dates (SenseTime listed later)
            capsys, "--database-url", backfilled.url, "study", "--event-time", members[0]["announced_at"],
            "--symbols", ",".join(symbols),
            "--benchmark", benchmarks, "--prices-dir", str(backfilled.prices), "--placebo", "100", "--json",
        )  # fmt: skip
        study = json.loads(out)
        studied = all(s["status"] in ("complete", "partial", "halted") for s in study["securities"])
        assert code == (0 if studied else 1), err  # 1: some could not be studied (listed on stderr)
        computed = {security["symbol"]: security for security in study["securities"]}
        compared = 0
        for row in members:
            security = computed[row["symbol"]]
            assert row["status"] == security["status"], row["symbol"]
            assert row["day0"] == (security["day0"] or "")
            if security["status"] != "complete":
                continue
            for label in WINDOWS:
                window = security["sub_windows"].get(label) or {"car": security["car"], "t": security["car_t"]}
                assert _number(row[f"car_{label}"]) == pytest.approx(window["car"], rel=1e-12, abs=1e-15)
                assert _number(row[f"t_{label}"]) == pytest.approx(window["t"], rel=1e-12, abs=1e-15)
                compared += 1
            day0 = next(d for d in security["days"] if d["rel_day"] == 0)
            assert _number(row["ar_day0"]) == (pytest.approx(day0["ar"], rel=1e-12) if day0["ar"] is not None else None)
        assert compared >= 6 * 8
        # The event's headline test in the report is the study command's, to the shown digits.
        tests = study["aggregate"]["tests"]
        section = html.split(f"<h2>{number}")[1].split("</section>")[0]
        assert f"{tests['kp_bmp_t']:+.2f}" in section
        assert f"{study['aggregate']['caar'] * 100:+.2f}%" in section


def test_one_event_and_its_halts(capsys: pytest.CaptureFixture[str], tmp_path: Path, backfilled: Backfilled) -> None:
    with backfilled.sessions() as session:
        from sqlalchemy import select

        from monitor.db.tables import Document, EventRow

        event_id = session.scalar(
            select(EventRow.id)
            .join(Document, Document.id == EventRow.document_id)
            .where(Document.document_number == "2019-22210")
        )
    data = tmp_path / "data"
    argv = ("--database-url", backfilled.url, "--data-dir", str(data), "report", str(event_id), "--out", str(tmp_path))
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "report:" in out
    kept = sorted((data / "cache" / "charts").glob("*.png"))  # a completed event: its two charts kept for next time
    assert len(kept) == 2
    first_html = (tmp_path / "report.html").read_text(encoding="utf-8")
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert sorted((data / "cache" / "charts").glob("*.png")) == kept
    images = re.compile(r'src="data:image/png;base64,[^"]+"')
    assert images.findall((tmp_path / "report.html").read_text(encoding="utf-8")) == images.findall(first_html)
    rows = {row["symbol"]: row for row in _rows(tmp_path / "report.csv")}
    assert set(rows) >= {"002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ", "AMBA"}
    hikvision = rows["002415.SZ"]
    assert (hikvision["day0"], hikvision["day0_halted"], hikvision["reaction_date"]) == (
        "2019-10-08",
        "true",
        "2019-10-10",
    )
    assert hikvision["ar_day0"] == ""  # halted: no abnormal return on day 0, never a zero
    assert float(hikvision["reaction_ar"]) < 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "halted on day 0; first trade 2019-10-10" in html
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2  # CAR/CAAR paths and the per-security panels
    assert "Methods and parameters" in html
    assert "placebo dates per event" in html


def test_nothing_to_report_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "report", "--all", "--out", str(tmp_path / "out"))  # the embedded database, empty
    assert code != 0
    assert "no studied events" in err
    code, _, err = run(capsys, "report", "7", "--out", str(tmp_path / "out"))
    assert code != 0
    assert "no event 7: no events are stored yet" in err  # issue 18: not "no stored study"
    code, _, err = run(capsys, "report", "--out", str(tmp_path / "out"))
    assert code != 0
    assert "EVENT_ID or --all" in err
