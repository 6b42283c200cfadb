"""``monitor backfill`` through the real CLI: arguments, the JSON summary, the report beside it, Ctrl-C handling."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.commands.backfill_cmd import GracefulStop
from tests.backfill.conftest import FEEDS

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_summary_and_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, trimmed_prices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_STUDY__PLACEBO_DRAWS", "50")
    code, out, err = run(
        capsys, "backfill", "--since", "2019-09-01", "--source", f"dir:{FEEDS}", "--prices", f"dir:{trimmed_prices}",
        "--report", str(tmp_path / "report"), "--no-filing-lookup", "--json",
    )  # fmt: skip
    assert code == 0, err
    body = json.loads(out)
    assert [e["document_number"] for e in body["events"]] == ["2019-22210"]  # the May rule is before --since
    assert body["ok"] is True
    assert body["studies"] == {"complete": 9, "insufficient_data": 1, "listed_later": 1}  # SenseTime listed 2021
    assert body["matches"] == {"confirmed": 11, "review": 1}
    assert {f["item"] for f in body["failures"]} >= {"event 1 6697.T", "6697.T"}
    assert "event 1 0020.HK" not in {f["item"] for f in body["failures"]}  # listed later is an answer, not a failure
    assert body["report"] == str(tmp_path / "report" / "report.html")
    assert (tmp_path / "report" / "report.csv").read_text(encoding="utf-8").count("\n") == 12
    assert "event studies" in err  # the progress bars go to stderr, the JSON alone to stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--since", "2019-12-31", "--until", "2019-01-01"), "--until 2019-01-01 is before --since 2019-12-31"),
        (("--since", "2019-01-01", "--source", "ftp://x"), "--source 'ftp://x': expected fr"),
        (("--since", "2019-01-01", "--source", "dir:/nonexistent/feeds"), "/nonexistent/feeds does not exist"),
    ],
)
def test_bad_arguments_fail_before_any_work(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, "backfill", *argv)
    assert code != 0
    assert message in err


def test_a_first_ctrl_c_asks_to_stop_and_a_second_aborts() -> None:
    with GracefulStop() as stop:
        handler = signal.getsignal(signal.SIGINT)
        assert callable(handler)
        handler(signal.SIGINT, None)
        assert stop.event.is_set()
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGINT, None)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
