"""CSV files a user hands us are read with limits: ``universe import`` and ``match --universe`` (issue 16, item 8).

A field over csv's 128 KiB default limit used to end ``universe import`` in a traceback; an unclosed quote swallowed
every row after it into one field; a device such as ``/dev/zero`` given as ``--universe`` was read until the kernel
killed the process. Now a bad line is one error naming the file and line while the lines around it load (an
unclosed quote takes at most a few lines, which are then read again), and only regular files under the size limit
are opened. Inputs: the real seed header and rows in the seed's shape (SYNTHETIC listings with made-up tickers).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.matching import csv_files, csv_lines

pytestmark = pytest.mark.integration  # the real CLI on an embedded database

HEADER = "issuer_name,aliases,ticker,exchange_mic,country,currency,benchmark\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listing(number: int, *, aliases: str = "") -> str:
    return f"Example Holdings {number} Limited,{aliases},{9000 + number}.HK,XHKG,CN,HKD,^HSI\n"


def test_a_field_over_the_limit_is_one_bad_line_and_the_rest_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + listing(1) + listing(2, aliases="x" * 200_000) + listing(3), encoding="utf-8")
    code, out, err = run(capsys, "universe", "import", str(path), "--no-seed")
    assert code == 1
    assert "2 securities row(s) loaded" in out
    [line] = err.strip().splitlines()
    assert line == f"{path}:3: line is longer than {csv_lines.MAX_LINE_BYTES:,} bytes"
    assert "Traceback" not in err


def test_an_unclosed_quote_spoils_only_its_own_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    broken = '"Example Holdings 2 Limited,,9002.HK,XHKG,CN,HKD,^HSI\n'
    path.write_text(HEADER + listing(1) + broken + listing(3) + listing(4), encoding="utf-8")
    code, out, err = run(capsys, "universe", "import", str(path), "--no-seed")
    assert code == 1
    assert "3 securities row(s) loaded" in out
    assert err.strip() == f"{path}:3: unclosed quote (a quoted field may span at most 4 lines)"
    code, out, _ = run(capsys, "universe", "list", "--search", "Example Holdings 4", "--json")
    assert code == 0
    assert "9004.HK" in out


def test_an_unclosed_quote_never_takes_more_than_its_line(tmp_path: Path) -> None:
    rows = [listing(number) for number in range(1, 12)]
    rows[1] = '"Example Holdings 2 Limited,,9002.HK,XHKG,CN,HKD,^HSI\n'  # line 3: opens a quote
    rows[3] = 'Example Holdings 4 Limited,",9004.HK,XHKG,CN,HKD,^HSI\n'  # line 5: a stray quote closing it
    rows[7] = 'Example Holdings 8 Limited,"Eight,9008.HK,XHKG,CN,HKD,^HSI\n'  # line 9: open to the end of the file
    path = tmp_path / "quotes.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    parsed = csv_files.parse_file(path, csv_files.FileKind.SECURITIES)
    assert [str(error) for error in parsed.errors] == [
        "line 3: unclosed quote (its field ran into line 5)",
        "line 5: unclosed quote (a quoted field may span at most 4 lines)",  # lines 6-8 hold no quote
        "line 9: unclosed quote (a quoted field may span at most 4 lines)",
    ]
    assert [line for line, _ in parsed.rows] == [2, 4, 6, 7, 8, 10, 11, 12]


def test_a_field_over_the_field_limit_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "field.csv"
    path.write_text(HEADER + listing(1, aliases="y" * (csv_lines.MAX_FIELD_CHARS + 1)), encoding="utf-8")
    code, _, err = run(capsys, "universe", "import", str(path), "--no-seed")
    assert code == 1
    assert err.strip() == (
        f"{path}:2: aliases is {csv_lines.MAX_FIELD_CHARS + 1:,} characters long; "
        f"the limit is {csv_lines.MAX_FIELD_CHARS:,}"
    )


@pytest.mark.parametrize("command", ["import", "match"])
def test_devices_and_fifos_are_refused_before_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it would block until a writer came: it must not even be opened
    for path in (Path("/dev/zero"), fifo):
        argv = ["universe", "import", str(path)] if command == "import" else ["match", "X", "--universe", str(path)]
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert err.strip() == f"monitor: error: {path}: not a regular file"


def test_a_file_over_the_size_limit_is_refused_without_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # sparse: no disk used, and nothing is read
        handle.truncate(csv_lines.MAX_FILE_BYTES + 1)
    code, _, err = run(capsys, "match", "X", "--universe", str(path))
    assert code == 2
    limit = csv_lines.MAX_FILE_BYTES // (1024 * 1024)
    assert err.strip() == f"monitor: error: {path}: {csv_lines.MAX_FILE_BYTES + 1:,} bytes, over the {limit} MiB limit"


def test_a_bad_encoding_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + listing(1) + "Société Exemple,,9005.HK,XHKG,FR,EUR,^HSI\n").encode("latin-1"))
    code, _, err = run(capsys, "universe", "import", str(path), "--no-seed")
    assert code == 2
    assert err.strip() == f"monitor: error: {path}:3: not UTF-8 text; save the file as UTF-8 CSV"
