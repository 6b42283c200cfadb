"""Tables on an 80-column terminal keep every identifier whole (no '…', no ticker or date split across lines), and
the same commands piped print tab-separated rows. The terminal is rich's own switch (TTY_COMPATIBLE, COLUMNS)."""

from __future__ import annotations

import re

import pytest

from monitor.cli import main
from monitor.commands._table import Column, emit
from tests.conftest import SHARED_DATA
from tests.report.conftest import Backfilled
from tests.report.conftest import backfilled as backfilled  # the shared backfilled database

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

PRICES = str(SHARED_DATA / "prices")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def terminal(monkeypatch: pytest.MonkeyPatch, width: int = 80) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", str(width))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, _ANSI.sub("", capsys.readouterr().out)


def assert_fits(out: str, identifiers: list[str], width: int = 80) -> None:
    assert "…" not in out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, max(lines, key=len)
    for identifier in identifiers:
        assert any(identifier in line for line in lines), identifier


def test_prices_show_at_80_columns(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = run(capsys, "prices", "fetch", "002415.SZ", "--since", "2019-09-02", "--source", f"dir:{PRICES}")
    assert code == 0
    terminal(monkeypatch)
    code, out = run(capsys, "prices", "show", "002415.SZ", "--since", "2019-09-30", "--until", "2019-10-11", "--ohlc")
    assert code == 0
    # every session of the span, each whole on one line; 10-01..10-07 is China's National Day holiday
    sessions = ["2019-09-30", "2019-10-08", "2019-10-09", "2019-10-10", "2019-10-11"]
    assert_fits(out, ["002415.SZ", *sessions, "-4.33%", "halted"])
    assert [DATE.findall(line)[0] for line in out.splitlines() if DATE.match(line.strip())] == sessions


def test_study_at_80_columns(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    terminal(monkeypatch)
    symbols = "AMBA,002415.SZ,002236.SZ,300188.SZ,002230.SZ,NVDA"
    code, out = run(
        capsys, "study", "--event-time", "2019-10-07T20:30:00Z", "--symbols", symbols, "--prices-dir", PRICES,
        "--placebo", "0",
    )  # fmt: skip
    assert code == 0
    assert_fits(out, [*symbols.split(","), "000300.SS", "^GSPC", "2019-10-08", "Kolari–Pynnönen BMP t *"])


def test_events_list_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, backfilled: Backfilled
) -> None:
    terminal(monkeypatch)
    code, out = run(capsys, "--database-url", backfilled.url, "events", "list")
    assert code == 0
    assert_fits(out, ["2019-22210", "2019-10616", "2019-10-07 16:15 NY"])
    assert "hidden at this width" in out  # the title and other less important columns gave way, and said so
    terminal(monkeypatch, 200)
    code, out = run(capsys, "--database-url", backfilled.url, "events", "list")
    assert "hidden at this width" not in out
    assert "Addition of Certain Entities to the Entity List" in out


def test_a_url_is_never_cut_and_a_too_narrow_terminal_gets_records(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://www.federalregister.gov/documents/2019/10/09/2019-22210/addition-of-certain-entities-to-the-entity-list"
    columns = [Column("rule", identifier=True), Column("url", identifier=True), Column("note", drop=1)]
    rows = [["2019-22210", url, "the Xinjiang rule, filed for public inspection on 2019-10-07"]]
    terminal(monkeypatch, 130)
    emit(columns, rows, title="rules")
    out = _ANSI.sub("", capsys.readouterr().out)
    assert url in out
    assert "hidden at this width: note" in out
    terminal(monkeypatch, 80)  # narrower than the URL itself: one record per row, every value whole
    emit(columns, rows, title="rules")
    out = _ANSI.sub("", capsys.readouterr().out)
    assert f"url: {url}" in out
    assert "…" not in out
    monkeypatch.setenv("TTY_COMPATIBLE", "0")  # piped: tab-separated
    emit(columns, rows, title="rules")
    assert capsys.readouterr().out.splitlines() == ["# rules", "rule\turl\tnote", "\t".join(rows[0])]


@pytest.mark.parametrize("width", [80, 83, 86, 100])
def test_free_text_columns_share_the_width_without_cutting_a_word(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """Several wrapping columns in a tight table: each keeps at least its longest word (rich, left alone, narrowed
    them all alike and cut the last one's '-12.8% (-1.89)' to '-12.8% (-' from 80 to 86 columns)."""
    columns = [
        Column("symbol", identifier=True),
        Column("security"),
        Column("day 0", identifier=True),
        Column("traded"),
        Column("first-trade AR", justify="right"),
        Column("CAR [-5,+5] (t)", justify="right"),
    ]
    rows = [
        ["002415.SZ", "Hikvision", "2019-10-08", "halted 10-08, 10-09; first trade 10-10", "-6.5%", "-12.8% (-1.89)"],
        ["300188.SZ", "Meiya Pico", "2019-10-08", "10-08", "-2.3%", "-6.2% (-0.78)"],
    ]
    terminal(monkeypatch, width)
    emit(columns, rows, title="The reaction")
    out = _ANSI.sub("", capsys.readouterr().out)
    assert "hidden at this width" not in out
    words = out.split()
    for row in rows:
        for cell in row:
            for word in cell.split():
                assert word in words, (word, out)
    assert max(len(line) for line in out.splitlines()) <= width
