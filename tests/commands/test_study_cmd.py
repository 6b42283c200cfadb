"""``monitor study`` through the real CLI, on the real price files and through the price store."""

from __future__ import annotations

import json

import pytest

from monitor.cli import main
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

PRICES = str(SHARED_DATA / "prices")
OCTOBER = ("study", "--event-time", "2019-10-07T20:30:00Z")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, *OCTOBER, "--symbols", "AMBA,002415.SZ", "--benchmark", "AMBA=^GSPC",
        "--prices-dir", PRICES, "--window", "-5,5", "--placebo", "50", "--json",
    )  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert body["event_time"] == "2019-10-07T20:30:00Z"
    assert (body["model"], body["estimation"], body["gap"], body["window"]) == ("market", 250, 10, [-5, 5])
    amba, hik = body["securities"]
    assert set(amba) >= {
        "symbol", "benchmark", "day0", "status", "alpha", "beta", "sigma", "n_estimation", "car", "car_variance",
        "car_t", "bhar", "days",
    }  # fmt: skip
    assert (amba["symbol"], amba["benchmark"], amba["day0"], amba["status"]) == (
        "AMBA",
        "^GSPC",
        "2019-10-08",
        "complete",
    )
    day0 = next(d for d in amba["days"] if d["rel_day"] == 0)
    assert set(day0) >= {"rel_day", "date", "return", "benchmark_return", "ar", "car", "sessions"}
    assert day0["date"] == "2019-10-08"
    assert -0.10 < day0["return"] < -0.09  # a fraction, not percent
    assert day0["ar"] < -0.05
    assert day0["t"] < -2.5
    assert hik["benchmark"] == "000300.SS"
    resumed = next(d for d in hik["days"] if d["rel_day"] == 2)
    assert (resumed["date"], resumed["sessions"]) == ("2019-10-10", 3)
    assert resumed["return"] == pytest.approx(30.90 / 32.30 - 1)
    aggregate = body["aggregate"]
    assert aggregate["n"] == 2
    assert [d["rel_day"] for d in aggregate["aar"]] == list(range(-5, 6))
    assert set(aggregate["aar"][0]) >= {"rel_day", "aar", "n"}
    assert set(aggregate["tests"]) >= {
        "cross_sectional_t", "patell_z", "bmp_t", "kp_bmp_t", "mean_residual_correlation", "portfolio_t", "rank_z",
        "rank_z_day0", "generalized_sign_z", "placebo_p",
    }  # fmt: skip
    assert 0 < aggregate["tests"]["placebo_p"] <= 1


def test_options_reach_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "study", "--event-time", "2019-10-08", "--symbols", "AMBA", "--prices-dir", PRICES,
        "--model", "market-adjusted", "--estimation", "200", "--gap", "5", "--window=-1,1", "--placebo", "0", "--json",
    )  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert (body["model"], body["estimation"], body["gap"], body["window"]) == ("market-adjusted", 200, 5, [-1, 1])
    [amba] = body["securities"]
    assert amba["day0"] == "2019-10-08"  # a bare date: before that day's open
    assert amba["beta"] is None
    assert amba["n_estimation"] == 200
    day0 = next(d for d in amba["days"] if d["rel_day"] == 0)
    assert day0["ar"] == pytest.approx(day0["return"] - day0["benchmark_return"])
    assert [d["rel_day"] for d in amba["days"]] == [-1, 0, 1]


def test_human_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *OCTOBER, "--symbols", "AMBA,002415.SZ,NOPE", "--prices-dir", PRICES, "--placebo", "0")
    assert code == 1  # NOPE could not be studied
    assert "Event study 2019-10-07T20:30:00Z: market model" in out
    assert "Kolari–Pynnönen BMP t *" in out
    assert "halted" in out
    assert "002415.SZ: halted on day 0; its day-0 reaction is the return to 2019-10-10" in out
    assert "NOPE: NOPE: no file NOPE.csv" in out


def test_store_is_used_and_filled_without_a_prices_dir(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_PRICES__SOURCE", f"dir:{PRICES}")
    code, out, _ = run(capsys, *OCTOBER, "--symbols", "AMBA", "--placebo", "0", "--json")
    assert code == 0
    from_store = json.loads(out)["securities"][0]
    code, out, _ = run(capsys, *OCTOBER, "--symbols", "AMBA", "--prices-dir", PRICES, "--placebo", "0", "--json")
    from_files = json.loads(out)["securities"][0]
    assert from_store["car"] == pytest.approx(from_files["car"], rel=1e-12)
    code, out, _ = run(capsys, "prices", "show", "AMBA", "--json")
    assert code == 0  # the bars are in the store now


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--symbols", "AMBA", "--window", "5"), "--window '5': expected FIRST,LAST such as -5,5"),
        (("--symbols", "AMBA", "--window", "1,5"), r"event window [1,5] must contain day 0"),
        (("--symbols", " , "), "--symbols: give at least one symbol"),
        (("--symbols", "AMBA", "--benchmark", "NVDA=^GSPC"), "--benchmark names NVDA, which --symbols does not list"),
        (("--symbols", "AMBA", "--model", "capm"), "model 'capm' is not one of market, market-adjusted"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *OCTOBER, *argv, "--prices-dir", PRICES)
    assert code == 2
    assert message in err


def test_exit_1_lists_what_could_not_be_studied(capsys: pytest.CaptureFixture[str]) -> None:
    """The audit: exit 0 when nothing could be studied. Now 0 all studied, 1 some not (each with why)."""
    code, _, err = run(capsys, *OCTOBER, "--symbols", "AMBA,NOPE", "--prices-dir", PRICES, "--placebo", "0")
    assert code == 1
    assert "not studied: NOPE: insufficient data: NOPE: no file NOPE.csv" in err
    code, _, err = run(capsys, *OCTOBER, "--symbols", "AMBA", "--prices-dir", PRICES, "--placebo", "0", "--json")
    assert code == 0
    assert "not studied" not in err


def test_exclude_dates_and_small_samples(capsys: pytest.CaptureFixture[str]) -> None:
    """The May 2019 leak days (§1.7) kept out of Hikvision's estimation; two securities print n too small."""
    leak = "2019-05-16,2019-05-17,2019-05-20,2019-05-21,2019-05-22"
    argv = (*OCTOBER, "--symbols", "AMBA,002415.SZ", "--prices-dir", PRICES, "--placebo", "0")
    code, out, _ = run(capsys, *argv, "--exclude-dates", leak, "--json")
    assert code == 0
    body = json.loads(out)
    hik = next(s for s in body["securities"] if s["symbol"] == "002415.SZ")
    assert hik["n_estimation"] == 245
    assert body["aggregate"]["tests"]["n_too_small"] is True
    code, out, _ = run(capsys, *argv)
    assert "n too small (n = 2)" in out
    code, _, err = run(capsys, *argv, "--exclude-dates", "May 16")
    assert code == 2
    assert "--exclude-dates 'May 16': expected YYYY-MM-DD" in err
