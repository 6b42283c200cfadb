"""CSV files: every row validated, bad rows reported by line number, the shipped seed always clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import InputError
from monitor.matching.csv_files import (
    FileKind,
    detect_kind,
    parse_exposures,
    parse_links,
    parse_securities,
    read_text,
    read_universe,
    seed_universe,
)
from monitor.matching.records import CounterpartyRole, LinkRole
from tests.conftest import SHARED_DATA

HEADER = "issuer_name,aliases,ticker,exchange_mic,country,currency,benchmark\n"


def test_shared_seed_files_parse_cleanly() -> None:
    securities = parse_securities(read_text(SHARED_DATA / "matching" / "universe_seed.csv"))
    exposures = parse_exposures(read_text(SHARED_DATA / "matching" / "exposures_seed.csv"))
    assert (len(securities.records), securities.errors) == (93, [])
    assert (len(exposures.records), exposures.errors) == (21, [])
    hikvision = next(s for s in securities.records if s.symbol == "002415.SZ")
    assert hikvision.aliases == ("Hikvision", "海康威视", "杭州海康威视数字技术股份有限公司")
    assert (hikvision.exchange_mic, hikvision.country, hikvision.currency, hikvision.benchmark) == (
        "XSHE",
        "CN",
        "CNY",
        "000300.SS",
    )


def test_shipped_seed_holds_the_shared_seed_and_curated_links() -> None:
    seed = seed_universe()
    shared = parse_securities(read_text(SHARED_DATA / "matching" / "universe_seed.csv")).records
    assert {s.symbol for s in shared} == {s.symbol for s in seed.securities}
    for original in shared:  # curation only adds aliases
        shipped = next(s for s in seed.securities if s.symbol == original.symbol)
        assert set(original.aliases) <= set(shipped.aliases)
        assert shipped.issuer_name == original.issuer_name
    assert {link.symbol for link in seed.links} <= {s.symbol for s in seed.securities}
    cetc = [link for link in seed.links if link.entity_name == "China Electronics Technology Group Corporation"]
    assert {(link.symbol, link.relation) for link in cetc} >= {("002415.SZ", LinkRole.PARENT)}
    assert all(link.source for link in seed.links)


def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    text = (
        HEADER
        + '"Good One Co., Ltd.",Good|好,000001.SZ,XSHE,CN,CNY,000300.SS\n'
        + ",,000002.SZ,XSHE,CN,CNY,000300.SS\n"  # line 3: no issuer name
        + "Bad Ticker,,not a ticker,XSHE,CN,CNY,000300.SS\n"  # line 4
        + '"Multi\nLine Name",,000003.SZ,XSHE,CN,CNY,000300.SS\n'  # lines 5-6: a quoted newline is fine
        + "Wrong Mic,,000004.SZ,SHENZHEN,CN,CNY,000300.SS\n"  # line 7
        + "\n"
        + "Duplicate,,000001.sz,XSHE,CN,CNY,000300.SS\n"  # line 9: same ticker as line 2
        + "Too,Many,000005.SZ,XSHE,CN,CNY,000300.SS,extra\n"  # line 10
    )
    parsed = parse_securities(text, "u.csv")
    assert [line for line, _ in parsed.rows] == [2, 5]
    assert parsed.rows[0][1].aliases == ("Good", "好")
    assert [(error.line, error.message.split(" ")[0]) for error in parsed.errors] == [
        (3, "issuer_name"),
        (4, "ticker"),
        (7, "exchange_mic"),
        (9, "ticker"),
        (10, "more"),
    ]
    assert "already given on line 2" in str(parsed.errors[3])
    assert str(parsed.errors[0]) == "line 3: issuer_name is empty"


def test_missing_columns_refuse_the_whole_file() -> None:
    with pytest.raises(InputError, match=r"u.csv: missing column\(s\) benchmark"):
        parse_securities("issuer_name,aliases,ticker,exchange_mic,country,currency\n", "u.csv")


def test_exposure_rows_validate_relation_and_weight() -> None:
    text = (
        "ticker,counterparty,relation,weight,source\n"
        "AMBA,Hikvision,Customer,,filing\n"
        "AMBA,Hikvision,partner,,x\n"
        "AMBA,Hikvision,customer,1.5,x\n"
        "AMBA,Hikvision,customer,lots,x\n"
        "AMBA,,customer,,x\n"
    )
    parsed = parse_exposures(text)
    assert [(r.symbol, r.relation, r.weight, r.source) for r in parsed.records] == [
        ("AMBA", CounterpartyRole.CUSTOMER, None, "filing")
    ]
    assert [error.line for error in parsed.errors] == [3, 4, 5, 6]
    assert "not one of supplier, customer, competitor" in parsed.errors[0].message


def test_link_rows_validate_relation() -> None:
    text = (
        "entity_name,aliases,ticker,relation,source\n"
        "CETC,中国电科|CETC,002415.SZ,parent,annual report\n"
        "X,,002415.SZ,sister,\n"
    )
    parsed = parse_links(text)
    assert parsed.records[0].aliases == ("中国电科",)
    assert parsed.records[0].relation is LinkRole.PARENT
    assert [error.line for error in parsed.errors] == [3]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (HEADER, FileKind.SECURITIES),
        ("ticker,counterparty,relation,weight,source\n", FileKind.EXPOSURES),
        ("\ufeffentity_name,aliases,ticker,relation,source\n", FileKind.LINKS),
    ],
)
def test_detect_kind(header: str, kind: FileKind) -> None:
    assert detect_kind(header, "f.csv") is kind


def test_detect_kind_names_the_known_formats() -> None:
    with pytest.raises(InputError, match="matches no known format"):
        detect_kind("a,b,c\n", "f.csv")


def test_read_text_refuses_non_utf8_and_missing_files(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("Société".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_text(latin1)
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "missing.csv")


def test_read_universe_keeps_only_relations_to_held_symbols(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        HEADER
        + '"Hangzhou Hikvision Digital Technology Co., Ltd.",Hikvision,002415.SZ,XSHE,CN,CNY,000300.SS\n'
        + '"Ambarella, Inc.",,AMBA,XNAS,US,USD,^GSPC\n'
        + "bad,,??,,,,\n",
        encoding="utf-8",
    )
    universe, problems = read_universe(path)
    assert universe.symbols == {"002415.SZ", "AMBA"}
    assert {e.symbol for e in universe.exposures} == {"AMBA", "002415.SZ"}  # AMBA supplies, Hikvision competes
    assert all(link.symbol == "002415.SZ" for link in universe.links)
    assert problems == [f"{path}: line 4: ticker '??' is not a Yahoo-style symbol such as AMBA, 002415.SZ or 0981.HK"]
