"""The symbol → venue → calendar → benchmark table: every row the universe relies on, and the refusals."""

from __future__ import annotations

import csv

import pytest

from monitor.errors import InputError
from monitor.prices.exchanges import calendar_for_mic, calendar_names, is_index, listing, normalise_symbol, suffix_of
from tests.conftest import SHARED_DATA


@pytest.mark.parametrize(
    ("symbol", "mic", "calendar", "benchmark", "currency"),
    [
        ("AMBA", "XNYS", "XNYS", "^GSPC", "USD"),
        ("688981.SS", "XSHG", "XSHG", "000300.SS", "CNY"),
        ("002415.SZ", "XSHE", "XSHG", "000300.SS", "CNY"),  # no XSHE calendar: Shenzhen uses the mainland one
        ("0981.HK", "XHKG", "XHKG", "^HSI", "HKD"),
        ("6697.T", "XTKS", "XTKS", "^N225", "JPY"),
        ("BRK.B", "XNYS", "XNYS", "^GSPC", "USD"),  # a class share's dot is not an exchange suffix
    ],
)
def test_suffix_defaults(symbol: str, mic: str, calendar: str, benchmark: str, currency: str) -> None:
    found = listing(symbol)
    assert (found.mic, found.calendar, found.benchmark, found.currency) == (mic, calendar, benchmark, currency)
    assert not found.is_index


@pytest.mark.parametrize(
    ("symbol", "calendar"),
    [("^GSPC", "XNYS"), ("^SOX", "XNYS"), ("^HSI", "XHKG"), ("000300.SS", "XSHG"), ("399001.SZ", "XSHG")],
)
def test_indices_map_to_their_exchange_and_are_flagged(symbol: str, calendar: str) -> None:
    found = listing(symbol)
    assert found.calendar == calendar
    assert found.is_index
    assert is_index(symbol)


def test_universe_row_mic_and_benchmark_win() -> None:
    found = listing("AMBA", mic="XNAS", benchmark="SOXX")
    assert (found.mic, found.calendar, found.benchmark) == ("XNAS", "XNYS", "SOXX")


def test_every_seed_universe_row_resolves_to_its_calendar() -> None:
    with (SHARED_DATA / "matching" / "universe_seed.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 80
    for row in rows:
        found = listing(row["ticker"], mic=row["exchange_mic"], benchmark=row["benchmark"])
        assert found.calendar == calendar_for_mic(row["exchange_mic"])
        assert found.benchmark == row["benchmark"]
        assert suffix_of(row["ticker"]) in ("", ".SS", ".SZ", ".HK", ".T")


def test_unknown_caret_index_is_refused_not_guessed() -> None:
    with pytest.raises(InputError, match=r"index \^FOO: unknown venue"):
        listing("^FOO")
    assert listing("^FOO", mic="XNYS").calendar == "XNYS"


def test_unknown_mic_names_the_table_to_extend() -> None:
    with pytest.raises(InputError, match=r"XLON.*MIC_CALENDARS"):
        listing("VOD.L", mic="XLON")


@pytest.mark.parametrize("bad", ["", "  ", "AM BA", "A/B"])
def test_malformed_symbols_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError, match="Yahoo-style symbol"):
        normalise_symbol(bad)


def test_symbols_are_normalised_and_calendars_listed() -> None:
    assert normalise_symbol(" amba ") == "AMBA"
    assert listing("0981.hk").symbol == "0981.HK"
    assert set(calendar_names()) >= {"XNYS", "XSHG", "XHKG"}
