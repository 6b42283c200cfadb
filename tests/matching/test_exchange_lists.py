"""The exchanges' own lists: SSE JSON (and JSONP), SZSE JSON pages, HKEX's xlsx; fetched through a mock transport.

Fixtures are reconstructed in the exchanges' documented shapes (tests/fixtures/universe/README.md); expected names
and dates are the public facts written into them (Sugon listed 2014-11-06, SMIC's STAR shares 2020-07-16).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import httpx
import pytest

from monitor.cli import main
from monitor.matching import exchange_lists
from tests.conftest import FIXTURES

LISTS = FIXTURES / "universe"


def test_sse_rows_give_english_and_chinese_names_and_listing_dates() -> None:
    companies = {c.symbol: c for c in exchange_lists.parse_sse((LISTS / "sse_main.json").read_text(encoding="utf-8"))}
    sugon = companies["603019.SS"]
    assert sugon.name == "Dawning Information Industry Co., Ltd."
    assert sugon.aliases == ("SUGON", "曙光信息产业股份有限公司", "中科曙光")
    assert (sugon.listed_on, sugon.delisted_on) == (date(2014, 11, 6), None)


def test_sse_jsonp_answer_is_read_too() -> None:
    [smic] = exchange_lists.parse_sse((LISTS / "sse_star.jsonp").read_text(encoding="utf-8"))
    assert (smic.symbol, smic.listed_on, smic.aliases[0]) == ("688981.SS", date(2020, 7, 16), "SMIC")


def test_szse_pages_strip_the_link_markup() -> None:
    text = (LISTS / "szse_page1.json").read_text(encoding="utf-8")
    assert exchange_lists.szse_pages(text) == 2
    companies = exchange_lists.parse_szse(text)
    assert [(c.symbol, c.name, c.listed_on) for c in companies] == [
        ("000063.SZ", "中兴通讯", date(1997, 11, 18)),
        ("002415.SZ", "海康威视", date(2010, 5, 28)),
    ]


def hkex_workbook() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["List of Securities"])
    sheet.append(["Updated as at 02/12/2026"])
    sheet.append(
        [
            *("Stock Code", "Name of Securities", "Category", "Sub-Category", "Board Lot", "Par Value", "ISIN"),
            *("Expiry Date", "Subject to Stamp Duty", "Shortsell Eligible", "Trading Currency", "RMB Counter"),
        ]
    )
    sheet.append(["00763", "ZTE", "Equity", "Equity Securities (Main Board)", "200", "1 CNY", "CNE1000004Y2"])
    sheet.append(["00981", "SMIC", "Equity", "Equity Securities (Main Board)", "500", "", "KYG8020E1199"])
    sheet.append(["02800", "TRACKER FUND", "Exchange Traded Products", "", "500", "", "HK2800008867"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_hkex_equities_with_their_isins_and_no_funds() -> None:
    companies = exchange_lists.parse_hkex(hkex_workbook())
    assert [(c.symbol, c.name, c.isin) for c in companies] == [
        ("0763.HK", "ZTE", "CNE1000004Y2"),
        ("0981.HK", "SMIC", "KYG8020E1199"),
    ]


def test_a_broken_workbook_is_refused_with_its_name() -> None:
    with pytest.raises(Exception, match="not an xlsx workbook"):
        exchange_lists.parse_hkex(b"not a zip", "ListOfSecurities.xlsx")


def serve(request: httpx.Request) -> httpx.Response:
    if request.url.host == "query.sse.com.cn":
        assert request.headers["Referer"] == "https://www.sse.com.cn/"
        name = "sse_main.json" if request.url.params["STOCK_TYPE"] == "1" else "sse_star.jsonp"
        return httpx.Response(200, text=(LISTS / name).read_text(encoding="utf-8"))
    if request.url.host == "www.szse.cn":
        return httpx.Response(200, text=(LISTS / f"szse_page{request.url.params['PAGENO']}.json").read_text())
    return httpx.Response(200, content=hkex_workbook())


def test_fetching_walks_both_boards_and_every_page() -> None:
    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        assert {c.symbol for c in exchange_lists.fetch_sse(client)} == {
            "600000.SS",
            "603019.SS",
            "600498.SS",
            "688981.SS",
        }
        assert [c.symbol for c in exchange_lists.fetch_szse(client)] == ["000063.SZ", "002415.SZ", "300367.SZ"]
        assert len(exchange_lists.fetch_hkex(client)) == 2


def test_refresh_adds_names_and_dates_under_curated_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["universe", "refresh", "--source", "sse", "--path", str(LISTS / "sse_main.json")])
    assert code == 0
    assert "sse: 3 listing(s) read" in capsys.readouterr().out
    code = main(["match", "Sugon", "--as-of", "2013-06-03", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert '"listing_status": "listed_later"' in out  # the SSE's listing date filled the curated row's gap
