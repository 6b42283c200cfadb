"""Global options before or after the subcommand, errors that name the option the user typed, and exchange
suffixes the monitor does not know refused with the list of those it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from monitor.cli import GLOBAL_OPTIONS, app, hoist_global_options, main
from monitor.errors import InputError
from monitor.prices.exchanges import listing
from tests.conftest import SHARED_DATA

PRICES = str(SHARED_DATA / "prices")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["config", "show", "--config", "F"], ["--config", "F", "config", "show"]),
        (["config", "show", "--json", "-c", "F"], ["-c", "F", "config", "show", "--json"]),
        (["--log-json", "db", "status", "--database-url=x"], ["--log-json", "--database-url=x", "db", "status"]),
        (
            ["--config", "A", "events", "list", "--data-dir", "D", "--log-json"],
            ["--config", "A", "--data-dir", "D", "--log-json", "events", "list"],
        ),
        (["extract", "--", "--config"], ["extract", "--", "--config"]),
        (["study", "--symbols", "AMBA"], ["study", "--symbols", "AMBA"]),
    ],
)  # fmt: skip
def test_global_options_move_in_front_of_the_subcommand(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected


def test_no_subcommand_defines_an_option_named_like_a_global_one() -> None:
    """Moving a global option out of a subcommand is safe only while no subcommand has one of that name."""
    root = typer.main.get_command(app)
    clashes: list[str] = []

    def walk(command: Any, path: str) -> None:
        if path:
            for param in command.params:
                clashes.extend(f"{path} {name}" for name in param.opts if name in GLOBAL_OPTIONS)
        for name, child in (getattr(command, "commands", None) or {}).items():
            walk(child, f"{path} {name}".strip())

    walk(root, "")
    assert clashes == []


@pytest.mark.integration
def test_config_after_the_subcommand(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text("[poll]\ncsl_hours = 6\n")
    code, out, err = run(capsys, "config", "show", "--json", "--config", str(config))
    assert code == 0, err
    assert '"value": "6.0"' in out
    assert f"file {config}" in out


@pytest.mark.integration
@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["poll", "--source", "fr", "--from-dir", "/nonexistent/saved"], "--from-dir: saved responses directory"),
        (["extract", "2019-22210", "--from-dir", "/nonexistent/saved"], "--from-dir: saved responses directory"),
        (["study", "--event-time", "2019-10-08", "--symbols", "A", "--prices-dir", "/no/p"], "--prices-dir: price"),
        (["backfill", "--since", "2019-10-01", "--prices", "dir:/nonexistent/p"], "--prices: price directory"),
        (["backfill", "--since", "2019-10-01", "--source", "dir:/nonexistent/s"], "--source: saved responses"),
        (["prices", "fetch", "AMBA", "--source", "dir:/nonexistent/p"], "--source: price directory"),
    ],
)  # fmt: skip
def test_errors_name_the_option_typed(capsys: pytest.CaptureFixture[str], argv: list[str], named: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert f"monitor: error: {named}" in err


@pytest.mark.integration
def test_a_configured_price_directory_is_named_by_its_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_PRICES__SOURCE", "dir:/nonexistent/p")
    code, _, err = run(capsys, "prices", "fetch", "AMBA")
    assert code == 2
    assert "monitor: error: prices.source: price directory /nonexistent/p" in err


def test_unknown_exchange_suffixes_are_refused_with_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown exchange suffix \.TYO; known suffixes: \.SS \(XSHG\), \.SZ"):
        listing("7203.TYO")
    assert listing("BRK.B").calendar == "XNYS"  # a US class share, not an exchange
    assert listing("002415.SZ").calendar == "XSHG"
    assert listing("6697.T").calendar == "XTKS"


@pytest.mark.integration
@pytest.mark.parametrize(
    "argv",
    [
        ["study", "--event-time", "2019-10-08", "--symbols", "AMBA,VOD.LN", "--prices-dir", PRICES],
        ["prices", "day0", "7203.TYO", "--at", "2019-10-07T20:30:00Z"],
        ["prices", "show", "7203.TYO"],
    ],
)
def test_commands_refuse_an_unknown_suffix(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "unknown exchange suffix" in err
    assert ".HK (XHKG)" in err
    assert out == ""
