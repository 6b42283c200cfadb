"""``monitor prices``: fetch from the bundled CSV directory into the embedded database, show, calendars, day0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import SHARED_DATA
from tests.prices.yahoo_fake import FakeYahoo, load, patched_yahoo

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

SOURCE = f"dir:{SHARED_DATA / 'prices'}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fetch_then_show_with_halts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "prices", "fetch", "002415.SZ", "amba", "--since", "2019-09-02", "--source", SOURCE, "--json"
    )
    assert code == 0
    results = {r["symbol"]: r for r in json.loads(out)}
    assert results["002415.SZ"]["status"] == "ok"
    assert results["002415.SZ"]["mode"] == "full"
    assert results["002415.SZ"]["first_session"] == "2019-09-02"
    assert results["AMBA"]["last_session"] == "2024-03-08"

    code, out, _ = run(
        capsys, "prices", "show", "002415.SZ", "--since", "2019-09-30", "--until", "2019-10-11", "--json"
    )
    assert code == 0
    shown = json.loads(out)
    assert shown["currency"] == "CNY"
    rows = {row["date"]: row for row in shown["rows"]}
    assert [rows[d]["status"] for d in ("2019-09-30", "2019-10-08", "2019-10-09", "2019-10-10")] == [
        "traded",
        "halted",
        "halted",
        "traded",
    ]
    assert rows["2019-10-08"]["return"] is None
    assert rows["2019-10-10"]["return"] == pytest.approx(-0.043344, abs=1e-6)
    assert rows["2019-10-10"]["span"] == 3

    code, out, _ = run(capsys, "prices", "show", "002415.SZ", "--since", "2019-10-08", "--until", "2019-10-10")
    assert code == 0
    assert "halted" in out
    assert "-4.33%" in out


def test_fetch_reports_failures_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prices", "fetch", "MU", "NOPE", "--since", "2019-10-01", "--source", SOURCE)
    assert code == 1
    assert "no_data" in out
    assert "NOPE.csv" in out


def test_fetch_refuses_an_unknown_index_before_fetching(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "prices", "fetch", "MU", "^FOO", "--source", SOURCE)
    assert code == 2
    assert "index ^FOO: unknown venue" in err
    assert out == ""


def test_fetch_uses_the_configured_source(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_PRICES__SOURCE", SOURCE)
    code, out, _ = run(capsys, "prices", "fetch", "^GSPC", "--since", "2019-10-01", "--json")
    assert code == 0
    assert json.loads(out)[0]["written"] > 1000


def test_show_without_data_says_what_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "prices", "show", "QRVO")
    assert code == 1
    assert "monitor prices fetch QRVO" in err


def test_day0_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "prices", "day0", "AMBA", "002415.SZ", "0981.HK", "--at", "2019-10-07T20:30:00Z", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert [r["day0"] for r in rows] == ["2019-10-08"] * 3
    assert rows[1]["close_utc"] == "2019-10-08T07:00:00+00:00"
    code, _, err = run(capsys, "prices", "day0", "AMBA", "--at", "2019-10-07T20:30")
    assert code == 2
    assert "add a UTC offset" in err


def test_calendars_command_warns_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_CALENDARS__WARN_DAYS", "5000")  # reaches XSHG (2027), not XHKG (2049)
    code, out, _ = run(capsys, "prices", "calendars", "--json")
    assert code == 1
    payload = json.loads(out)
    rows = {row["calendar"]: row for row in payload["calendars"]}
    assert rows["XSHG"]["holidays_known_through"] == "2027-12-31"
    assert rows["XSHG"]["provisional"] == ["2027-01-01", "2027-12-31"]  # the holidays package's 2027, not the SSE's
    assert rows["XNYS"]["provisional"] is None
    assert any("holiday_overrides.XSHG" in message for message in payload["warnings"])


def test_prices_help_lists_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prices", "--help")
    assert code == 0
    for word in ("fetch", "show", "calendars", "day0"):
        assert word in out


def test_fetch_through_yfinance_offline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The composition path with the default source: settings → YFinanceSource → store, Yahoo faked."""
    fake = FakeYahoo(charts={"0981.HK": load("chart_0981.HK.json")})
    with patched_yahoo(fake, tmp_path / "data" / "yfinance"):
        code, out, _ = run(capsys, "prices", "fetch", "0981.HK", "NOPE", "--since", "2019-09-02", "--json")
    assert code == 1
    results = {r["symbol"]: r for r in json.loads(out)}
    assert results["0981.HK"]["status"] == "ok"
    assert results["0981.HK"]["last_session"] == "2019-10-31"
    assert results["NOPE"]["status"] == "no_data"
    code, out, _ = run(capsys, "prices", "show", "0981.HK", "--since", "2019-10-02", "--until", "2019-10-08", "--json")
    shown = json.loads(out)
    assert shown["currency"] == "HKD"
    assert [row["date"] for row in shown["rows"]] == ["2019-10-02", "2019-10-03", "2019-10-04", "2019-10-08"]
