"""Federal Register API v1 client: BIS documents search, single documents, public inspection, full text.

Built on ``FeedHttp`` (retries, error mapping) and the base URL from settings. Searches paginate by following
``next_page_url`` (its ``search_after_cursor`` survives past the 10,000-hit cap), re-based onto our configured
base URL so proxies and local servers keep working; a page number above 50 is refused because the API would
silently serve page 1 again. Every API request carries a cache-buster: the API sits behind a shared cache that
ignores ``no-store`` and sends no ETag. The public-inspection check is conditional all the same: validators the
server sends (ETag, Last-Modified) go back as If-None-Match / If-Modified-Since, and a 200 whose ``*_updated_at``
stamps equal the stored ones is not parsed further (the issue's 100-odd records are validated only when it changed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from monitor.errors import FeedUnavailable
from monitor.feeds.http import FeedHttp, cache_buster
from monitor.feeds.records import BIS_SLUG, FrDocumentRecord, FrSearchPage, PiIssue, PiStamps, parse_model
from monitor.logs import get_logger

log = get_logger(__name__)

MAX_PAGE = 50  # the API resets page numbers above this to 1, without an error
SEARCH_FIELDS: tuple[str, ...] = (
    "document_number", "title", "type", "abstract", "action", "citation", "start_page", "end_page",
    "publication_date", "effective_on", "dates", "html_url", "pdf_url", "full_text_xml_url", "raw_text_url",
    "public_inspection_pdf_url", "agencies", "cfr_references", "correction_of",
)  # fmt: skip

Params = list[tuple[str, str]]
VALIDATORS = (("etag", "ETag", "If-None-Match"), ("last_modified", "Last-Modified", "If-Modified-Since"))


@dataclass(frozen=True)
class PiCheck:
    """One conditional look at ``current.json``: the issue when it changed (else None) and the cursor to store."""

    issue: PiIssue | None
    cursor: dict[str, str | None]


class FederalRegisterClient:
    def __init__(self, http: FeedHttp, base_url: str, *, cache_buster: Callable[[], str] = cache_buster) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._cache_buster = cache_buster

    # --- documents -------------------------------------------------------------------------------------------

    def search_params(
        self,
        *,
        agency: str | None = BIS_SLUG,
        since: date | None = None,
        until: date | None = None,
        per_page: int = 20,
        term: str | None = None,
        cfr_part: int | None = None,
        document_numbers: Sequence[str] = (),
    ) -> Params:
        """Newest first: publication_date desc, then document_number desc."""
        params: Params = [("order", "newest"), ("per_page", str(per_page))]
        if agency:
            params.append(("conditions[agencies][]", agency))
        if since is not None:
            params.append(("conditions[publication_date][gte]", since.isoformat()))
        if until is not None:
            params.append(("conditions[publication_date][lte]", until.isoformat()))
        if term:
            params.append(("conditions[term]", term))
        if cfr_part is not None:
            params += [("conditions[cfr][title]", "15"), ("conditions[cfr][part]", str(cfr_part))]
        params += [("conditions[document_numbers][]", number) for number in document_numbers]
        params += [("fields[]", name) for name in SEARCH_FIELDS]
        return params

    def search_pages(self, params: Params, *, max_pages: int = MAX_PAGE) -> Iterator[FrSearchPage]:
        """Yield pages until the results end, ``max_pages`` is reached, or the API starts repeating itself."""
        url = f"{self.base_url}/documents.json"
        seen: set[str] = set()
        for page_number in range(1, max_pages + 1):
            page = parse_model(FrSearchPage, self._get_json(url, params), what="documents search", url=url)
            fresh = [r for r in page.results if r.document_number not in seen]
            if page.results and not fresh:
                log.warning("fr_pagination_reset", page=page_number, note="the API served already-seen results")
                return
            seen.update(r.document_number for r in page.results)
            yield page
            if not page.next_page_url or not page.results:
                return
            params = _rebased_params(page.next_page_url)
            next_page = int(dict(params).get("page", "0") or 0)
            if next_page > MAX_PAGE and "search_after_cursor" not in dict(params):
                log.warning("fr_pagination_cap", page=next_page, note="slice the query by date to go further")
                return

    def document(self, number: str) -> FrDocumentRecord:
        url = f"{self.base_url}/documents/{number}.json"
        return parse_model(FrDocumentRecord, self._get_json(url, []), what=f"document {number}", url=url)

    # --- public inspection -------------------------------------------------------------------------------------

    def public_inspection_current(self) -> PiIssue:
        url = f"{self.base_url}/public-inspection-documents/current.json"
        return parse_model(PiIssue, self._get_json(url, []), what="public inspection (current)", url=url)

    def public_inspection_check(self, cursor: Mapping[str, str | None], *, force: bool = False) -> PiCheck:
        """``current.json`` when it changed since ``cursor`` (a stored ``PiCheck.cursor``); ``force`` parses it
        whatever the stamps say. A 304 or unchanged stamps answer ``issue=None``."""
        url = f"{self.base_url}/public-inspection-documents/current.json"
        headers = {header: str(cursor[key]) for key, _, header in VALIDATORS if cursor.get(key) and not force}
        response = self.http.get(
            url, params=[("_", self._cache_buster())], headers=headers, ok_statuses=frozenset({200, 304})
        )
        if response.status_code == 304:
            return PiCheck(None, dict(cursor))
        validators = {key: response.headers[name] for key, name, _ in VALIDATORS if response.headers.get(name)}
        payload = _json(response, url)
        stamps = parse_model(PiStamps, payload, what="public inspection (current)", url=url)
        if stamps.same_as(cursor) and not force:
            return PiCheck(None, {**stamps.cursor, **validators})
        issue = parse_model(PiIssue, payload, what="public inspection (current)", url=url)
        return PiCheck(issue, {**issue.cursor, **validators})

    def public_inspection_day(self, day: date) -> PiIssue:
        url = f"{self.base_url}/public-inspection-documents.json"
        params = [("conditions[available_on]", day.isoformat())]
        return parse_model(PiIssue, self._get_json(url, params), what=f"public inspection {day}", url=url)

    # --- full text ------------------------------------------------------------------------------------------------

    def full_text(self, url: str) -> bytes:
        """The rule's XML or raw text, as bytes (``full_text_xml_url``, ``raw_text_url``); not cache-busted."""
        return self.http.get(url).content

    def _get_json(self, url: str, params: Params) -> Any:
        response = self.http.get(url, params=[*params, ("_", self._cache_buster())])
        return _json(response, url)


def _json(response: httpx.Response, url: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FeedUnavailable(f"{url} returned invalid JSON: {exc}", url=url) from None


def _rebased_params(next_page_url: str) -> Params:
    """The query of ``next_page_url`` (cursor included) without its host, path and old cache-buster."""
    query = httpx.URL(next_page_url).params
    return [(key, value) for key, value in query.multi_items() if key not in ("_", "format")]
