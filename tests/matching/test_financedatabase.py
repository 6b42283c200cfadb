"""FinanceDatabase's real equity files (../shared/data/universe/financedatabase, MIT) as listings.

Counts come from the files themselves (README beside them: 1,628 / 2,248 / 1,625 rows, 32 delisted), checked here
with plain csv reading, independently of the parser.
"""

from __future__ import annotations

import csv
import re

import pytest

from monitor.cli import main
from monitor.matching.financedatabase import parse_equities, read_directory
from monitor.matching.listings import clean_name, is_share, to_securities, yahoo_symbol
from monitor.matching.store import market_securities
from tests.conftest import SHARED_DATA

FD = SHARED_DATA / "universe" / "financedatabase"


def test_every_share_still_listed_is_read_and_funds_are_not() -> None:
    parsed = read_directory(FD)
    rows: list[dict[str, str]] = []
    for name in ("SHH.csv", "SHZ.csv", "HKG.csv"):
        with (FD / name).open(encoding="utf-8") as handle:
            rows += csv.DictReader(handle)
    mainland = re.compile(r"^(60[0135]|68[89]|900|00[0-3]|30[01]|200)\d{3}\.(SS|SZ)$")
    expected = {
        row["symbol"].zfill(7) if row["symbol"].endswith(".HK") else row["symbol"]  # Yahoo: four-digit HK codes
        for row in rows
        if row["delisted"] != "True"
        and row["name"]
        and (row["symbol"].endswith(".HK") or mainland.match(row["symbol"]))
    }
    assert {company.symbol for company in parsed.companies} == expected
    assert parsed.skipped["delisted"] == 32
    assert len(expected) > 5000


def test_names_lose_share_class_tails_and_mainland_issuers_are_chinese() -> None:
    by_symbol = {company.symbol: company for company in read_directory(FD).companies}
    assert by_symbol["000977.SZ"].name == "IEIT SYSTEMS Co., Ltd."
    assert by_symbol["000004.SZ"].country == "CN"  # the file's address says San Francisco
    assert by_symbol["0001.HK"].isin == "KYG217651051"
    securities = {security.symbol: security for security in to_securities(by_symbol.values())}
    assert (securities["0001.HK"].exchange_mic, securities["0001.HK"].benchmark) == ("XHKG", "^HSI")
    assert (securities["603019.SS"].exchange_mic, securities["603019.SS"].currency) == ("XSHG", "CNY")


def test_the_shipped_market_universe_is_built_from_these_files() -> None:
    shipped = {security.symbol for security in market_securities()}
    assert shipped == {company.symbol for company in read_directory(FD).companies}


@pytest.mark.parametrize(
    ("symbol", "share"), [("603019.SS", True), ("501000.SS", False), ("300367.SZ", True), ("159915.SZ", False)]
)
def test_share_codes(symbol: str, share: bool) -> None:
    assert is_share(symbol) is share


def test_helpers() -> None:
    assert yahoo_symbol("00981", ".HK") == "0981.HK"
    assert yahoo_symbol("603019", ".SS") == "603019.SS"
    assert clean_name("IEIT SYSTEMS Co., Ltd.Class A") == "IEIT SYSTEMS Co., Ltd."


def test_a_file_that_is_not_financedatabase_is_refused() -> None:
    with pytest.raises(Exception, match="not a FinanceDatabase equities file"):
        parse_equities("symbol,name\nX,Y\n", "x.csv")


def test_refresh_command_loads_the_files(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["universe", "refresh", "--source", "financedatabase", "--path", str(FD)])
    out = capsys.readouterr().out
    assert code == 0
    assert "financedatabase: 5197 listing(s) read" in out
