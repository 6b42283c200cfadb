"""The exchanges' own lists of listed companies: Shanghai (SSE), Shenzhen (SZSE) and Hong Kong (HKEX).

They give what FinanceDatabase lacks: Chinese short and full names (SSE, SZSE), English short and full names (SSE),
listing dates (SSE, SZSE) and the short English names traders see on screens (HKEX). Shapes, as the exchanges serve
them (the same endpoints akshare wraps):

- SSE ``query.sse.com.cn/sseQuery/commonQuery.do?sqlId=COMMON_SSE_CP_GPJCTPZ_GPLB_GP_L&STOCK_TYPE=1|8``: JSON (or
  JSONP when ``jsonCallBack`` is sent) whose ``result`` (also ``pageHelp.data``) rows carry ``A_STOCK_CODE``,
  ``COMPANY_ABBR`` / ``SEC_NAME_CN`` (Chinese short), ``FULL_NAME`` (Chinese full), ``COMPANY_ABBR_EN``,
  ``FULL_NAME_IN_ENGLISH``, ``LIST_DATE`` (``YYYYMMDD``) and ``DELIST_DATE`` (``-`` while listed).
- SZSE ``www.szse.cn/api/report/ShowReport/data?SHOWTYPE=JSON&CATALOGID=1110&TABKEY=tab1&PAGENO=n``: a JSON list of
  tabs, each ``{"metadata": {..., "pagecount"}, "data": [...]}``; A-share rows carry ``agdm`` (code), ``agjc`` (short
  name, wrapped in ``<a><u>…</u></a>``) and ``agssrq`` (listing date). The list has no English names.
- HKEX ``ListOfSecurities.xlsx``: a title row, an "Updated as at dd/mm/yyyy" row, then a header with ``Stock Code``,
  ``Name of Securities``, ``Category`` (``Equity`` for shares), ``ISIN`` and more; no listing dates.

Rows become ``ListedCompany`` records; ``store.add_listings`` keeps curated fields and adds the lists' names as
aliases, so a pinyin or English spelling derived from them reaches the matcher.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime
from typing import Any

from monitor.errors import FeedUnavailable, InputError
from monitor.matching.listings import ListedCompany, is_share, yahoo_symbol

SSE_URL = "https://query.sse.com.cn/sseQuery/commonQuery.do"
SSE_STOCK_TYPES = ("1", "8")  # main-board A shares, STAR Market
SZSE_URL = "https://www.szse.cn/api/report/ShowReport/data"
HKEX_URL = "https://www.hkex.com.hk/eng/services/trading/securities/securitieslists/ListOfSecurities.xlsx"
_TAG = re.compile(r"<[^>]+>")
_JSONP = re.compile(r"^\s*[\w$.]+\((.*)\)\s*;?\s*$", re.DOTALL)


def _json(text: str, source: str) -> Any:
    """JSON, or the JSONP the SSE answers when a callback is named."""
    wrapped = _JSONP.match(text)
    try:
        return json.loads(wrapped.group(1) if wrapped else text)
    except ValueError as exc:
        raise FeedUnavailable(f"{source}: not JSON ({exc})") from exc


def _day(value: Any, *formats: str) -> date | None:
    text = str(value or "").strip()
    if not text or text == "-":
        return None
    for pattern in formats:
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date, no time of day
        except ValueError:
            continue
    return None


def parse_sse(text: str, source: str = "SSE list") -> list[ListedCompany]:
    """SSE's listed-company rows: Chinese and English names, listing and delisting dates."""
    payload = _json(text, source)
    rows = payload.get("result") if isinstance(payload, dict) else None
    if rows is None and isinstance(payload, dict):
        rows = (payload.get("pageHelp") or {}).get("data")
    if not isinstance(rows, list):
        raise FeedUnavailable(f"{source}: no 'result' rows in the SSE answer")
    companies: list[ListedCompany] = []
    for row in rows:
        code = str(row.get("A_STOCK_CODE") or "").strip()
        if not code or code == "-":
            continue
        symbol = yahoo_symbol(code, ".SS")
        if not is_share(symbol):
            continue
        english = str(row.get("FULL_NAME_IN_ENGLISH") or "").strip()
        names = [
            str(row.get(key) or "").strip()
            for key in ("COMPANY_ABBR_EN", "FULL_NAME", "COMPANY_ABBR", "SEC_NAME_CN", "SEC_NAME_FULL")
        ]
        aliases = tuple(dict.fromkeys(name for name in names if name and name != "-" and name != english))
        companies.append(
            ListedCompany(
                symbol=symbol,
                name=english or next(iter(aliases), code),
                aliases=aliases,
                country="CN",
                listed_on=_day(row.get("LIST_DATE"), "%Y%m%d", "%Y-%m-%d"),
                delisted_on=_day(row.get("DELIST_DATE"), "%Y%m%d", "%Y-%m-%d"),
            )
        )
    return companies


def szse_pages(text: str, source: str = "SZSE list") -> int:
    """How many pages the A-share tab has (the first page's metadata says)."""
    tab = _szse_tab(_json(text, source), source)
    return int(tab.get("metadata", {}).get("pagecount") or 1)


def _szse_tab(payload: Any, source: str) -> dict[str, Any]:
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], dict):
        raise FeedUnavailable(f"{source}: expected a list of tabs")
    tab: dict[str, Any] = payload[0]
    return tab


def parse_szse(text: str, source: str = "SZSE list") -> list[ListedCompany]:
    """One page of SZSE's A-share list: code, Chinese short name (an alias) and listing date."""
    tab = _szse_tab(_json(text, source), source)
    companies: list[ListedCompany] = []
    for row in tab.get("data") or []:
        code = str(row.get("agdm") or "").strip()
        name = _TAG.sub("", str(row.get("agjc") or "")).replace("\u3000", "").strip()
        if not code or not name:
            continue
        symbol = yahoo_symbol(code, ".SZ")
        if not is_share(symbol):
            continue
        listed = _day(row.get("agssrq"), "%Y-%m-%d", "%Y%m%d")
        companies.append(ListedCompany(symbol=symbol, name=name, aliases=(name,), country="CN", listed_on=listed))
    return companies


def parse_hkex(content: bytes, source: str = "HKEX ListOfSecurities.xlsx") -> list[ListedCompany]:
    """HKEX's list of securities: the equities' codes, screen names and ISINs."""
    try:
        from openpyxl import load_workbook
    except ImportError:
        raise InputError("reading HKEX's xlsx needs openpyxl: pip install 'entity-list-monitor[exchanges]'") from None
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors for a broken file
        raise FeedUnavailable(f"{source}: not an xlsx workbook ({type(exc).__name__}: {exc})") from exc
    rows = sheet.iter_rows(values_only=True)
    columns: dict[str, int] = {}
    for row in rows:
        cells = [str(cell).strip() if cell is not None else "" for cell in row]
        if "Stock Code" in cells and "Name of Securities" in cells:
            columns = {name: position for position, name in enumerate(cells) if name}
            break
    if not columns:
        raise FeedUnavailable(f"{source}: no 'Stock Code' / 'Name of Securities' header")
    companies: list[ListedCompany] = []
    for row in rows:
        values = list(row)

        def cell(name: str, values: list[Any] = values) -> str:
            position = columns.get(name)
            value = values[position] if position is not None and position < len(values) else None
            return str(value).strip() if value is not None else ""

        code, name = cell("Stock Code"), cell("Name of Securities")
        if not code or not name or cell("Category") != "Equity":
            continue
        symbol = yahoo_symbol(code.split(".")[0], ".HK")
        companies.append(ListedCompany(symbol=symbol, name=name, aliases=(name,), isin=cell("ISIN") or None))
    return companies


def _get(client: Any, url: str, params: dict[str, str] | None, headers: dict[str, str]) -> Any:
    import httpx

    try:
        response = client.get(url, params=params, headers=headers, timeout=30.0)
    except httpx.TransportError as exc:
        raise FeedUnavailable(f"{url}: {type(exc).__name__}: {exc}", url=url) from exc
    if response.status_code != 200:
        raise FeedUnavailable(f"{url}: HTTP {response.status_code}", url=url)
    return response


def fetch_sse(client: Any, url: str = SSE_URL) -> list[ListedCompany]:
    """Main-board and STAR lists from the SSE (it answers only with a Referer from its own site)."""
    headers = {"Referer": "https://www.sse.com.cn/", "Accept": "application/json"}
    companies: list[ListedCompany] = []
    for stock_type in SSE_STOCK_TYPES:
        params = {
            "sqlId": "COMMON_SSE_CP_GPJCTPZ_GPLB_GP_L",
            "STOCK_TYPE": stock_type,
            "COMPANY_STATUS": "2,4,5,7,8",
            "type": "inParams",
            "isPagination": "true",
            "pageHelp.cacheSize": "1",
            "pageHelp.beginPage": "1",
            "pageHelp.pageSize": "10000",
            "pageHelp.pageNo": "1",
            "pageHelp.endPage": "1",
        }
        companies += parse_sse(_get(client, url, params, headers).text, f"{url} (STOCK_TYPE={stock_type})")
    return companies


def fetch_szse(client: Any, url: str = SZSE_URL, *, max_pages: int = 200) -> list[ListedCompany]:
    """Every page of the SZSE A-share list."""
    companies: list[ListedCompany] = []
    page, pages = 1, 1
    while page <= min(pages, max_pages):
        params = {"SHOWTYPE": "JSON", "CATALOGID": "1110", "TABKEY": "tab1", "PAGENO": str(page)}
        text = _get(client, url, params, {"Referer": "https://www.szse.cn/"}).text
        if page == 1:
            pages = szse_pages(text, url)
        companies += parse_szse(text, f"{url} (page {page})")
        page += 1
    return companies


def fetch_hkex(client: Any, url: str = HKEX_URL) -> list[ListedCompany]:
    return parse_hkex(_get(client, url, None, {}).content, url)
