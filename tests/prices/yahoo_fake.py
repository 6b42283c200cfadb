"""A fake Yahoo behind yfinance's own transport (``YfData.get`` / ``cache_get``), so yfinance's parsing runs.

Each symbol is served from a chart JSON snapshot in tests/fixtures/prices; the fake slices the snapshot to the
requested ``period1``/``period2`` (or ``range``) the way Yahoo does. Unknown symbols get Yahoo's 404 answers. A
symbol can be switched to raise ``YFRateLimitError`` or to a newer snapshot (after a split) mid-test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from tests.conftest import FIXTURES

CHARTS = FIXTURES / "prices"


def load(name: str) -> dict[str, Any]:
    return json.loads((CHARTS / name).read_text())


class FakeResponse:
    def __init__(self, payload: dict[str, Any], status_code: int = 200, url: str = "") -> None:
        self._payload = payload
        self.status_code = status_code
        self.text = json.dumps(payload)
        self.url = url

    def json(self) -> dict[str, Any]:
        return copy.deepcopy(self._payload)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            from yfinance._http import HTTPError

            raise HTTPError(f"HTTP Error {self.status_code}: Not Found for url: {self.url}", 0, response=self)


def slice_chart(snapshot: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(snapshot)
    result = payload["chart"]["result"][0]
    stamps: list[int] = result["timestamp"]
    if "period1" in params or "period2" in params:
        low = int(params.get("period1") or 0)
        high = int(params.get("period2") or 2**62)
        keep = [i for i, stamp in enumerate(stamps) if low <= stamp < high]
    elif params.get("range") == "1d":
        keep = [len(stamps) - 1]
    else:
        keep = list(range(len(stamps)))
    result["timestamp"] = [stamps[i] for i in keep]
    for quote in result["indicators"]["quote"]:
        for key in list(quote):
            quote[key] = [quote[key][i] for i in keep]
    for adj in result["indicators"].get("adjclose", []):
        adj["adjclose"] = [adj["adjclose"][i] for i in keep]
    if not keep:  # Yahoo answers an empty range with empty indicators and no timestamps
        del result["timestamp"]
        result["indicators"] = {"quote": [{}], "adjclose": [{}]}
    lo, hi = (result["timestamp"][0], result["timestamp"][-1]) if keep else (0, -1)
    for kind, events in list(result.get("events", {}).items()):
        result["events"][kind] = {k: v for k, v in events.items() if lo <= v["date"] <= hi + 86_400}
    return payload


@dataclass
class FakeYahoo:
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)  # symbol -> daily snapshot
    intraday: dict[str, dict[str, Any]] = field(default_factory=dict)  # symbol -> intraday snapshot
    rate_limited: set[str] = field(default_factory=set)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def serve(self, url: str, params: dict[str, Any] | None) -> FakeResponse:
        from yfinance.exceptions import YFRateLimitError

        params = dict(params or {})
        self.requests.append((url, params))
        symbol = url.rstrip("/").split("/")[-1].split("?")[0]
        if "/v8/finance/chart/" in url:
            if symbol in self.rate_limited:
                raise YFRateLimitError()
            interval = params.get("interval", "1d")
            source = self.intraday if interval not in ("1d", "5d", "1wk", "1mo", "3mo") else self.charts
            if params.get("range") == "1d" and symbol not in source:  # yfinance's time-zone look-up
                source = self.intraday
            if symbol not in source:
                return FakeResponse(load("chart_not_found.json"), 404, url)
            return FakeResponse(slice_chart(source[symbol], params), 200, url)
        if "/quoteSummary/" in url or "/v7/finance/quote" in url:
            return FakeResponse(load("quote_summary_not_found.json"), 404, url)
        raise AssertionError(f"unexpected Yahoo URL in a test: {url}")


@contextmanager
def patched_yahoo(fake: FakeYahoo, cache_dir: Path) -> Iterator[FakeYahoo]:
    """Route yfinance's transport to ``fake`` and its time-zone cache to ``cache_dir``."""
    import yfinance as yf
    from yfinance.data import YfData

    def get(self: Any, url: str, params: dict[str, Any] | None = None, timeout: float = 30) -> FakeResponse:
        return fake.serve(url, params)

    yf.set_tz_cache_location(str(cache_dir))
    # yfinance binds its time-zone cache on first use and ignores later locations; each test wants its own.
    from yfinance.cache import _TzCacheManager

    _TzCacheManager._tz_cache = None
    with mock.patch.object(YfData, "get", get), mock.patch.object(YfData, "cache_get", get):
        yield fake
