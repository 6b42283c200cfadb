"""Replay saved Federal Register and CSL responses through the same client code: an httpx transport on a directory.

The backfill (``--source dir:PATH``), the offline demo and the tests point the real clients at a directory
instead of the network; only the transport changes. Layout (flat; every file is a response body as the API
returned it):

====================================  ==========================================================================
file                                  answers
====================================  ==========================================================================
``documents_search.json``             ``GET …/documents.json`` (page 1 of any search; conditions are not
                                      evaluated: the file is what the recorded search returned)
``documents_search_page<N>.json``     page N ≥ 2 of that search (reached through ``next_page_url``)
``document_<number>.json``            ``GET …/documents/<number>.json``
``public_inspection_current.json``    ``GET …/public-inspection-documents/current.json`` (missing: an empty issue)
``public_inspection_<YYYY-MM-DD>.json`` ``GET …/public-inspection-documents.json?conditions[available_on]=DATE``;
                                      a day without a file had no issue: ``{"count": 0, "results": []}``
``<number>.xml``                      any ``…/<number>.xml`` (``full_text_xml_url``)
``<number>.txt``                      any ``…/<number>.txt`` (``raw_text_url`` of a published document)
``public_inspection_<number>.txt``    ``…/public-inspection/raw_text/201/922/210.txt`` (PI raw text of 2019-22210)
``consolidated.json``, ``.csv``       the Consolidated Screening List bulk file
====================================  ==========================================================================

Anything else is a 404 with a JSON ``message`` naming the file that would have answered, as the API does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

_PI_RAW_TEXT = re.compile(r"/public-inspection/raw_text/(\d+)/(\d+)/(\d+)\.txt$")
_DOCUMENT_JSON = re.compile(r"/documents/([^/]+)\.json$")
_FULL_TEXT = re.compile(r"/([^/]+)\.(xml|txt)$")
_SAFE_NAME = re.compile(r"^[\w.-]+$")
_CONTENT_TYPES = {".json": "application/json", ".xml": "application/xml", ".txt": "text/plain", ".csv": "text/csv"}


class SavedResponsesTransport(httpx.BaseTransport):
    """Serves a directory laid out as above; counts requests like a server would."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"saved responses directory {directory} does not exist")
        self.directory = directory
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        name, empty_ok = route(request.url)
        if name is None:
            return _not_found(f"no saved-response file answers {request.url.path}")
        path = self.directory / name
        if not _SAFE_NAME.match(name) or not path.is_file():
            if empty_ok:
                return httpx.Response(200, json={"count": 0, "results": []}, request=request)
            return _not_found(f"not saved: {name}")
        return httpx.Response(
            200,
            content=path.read_bytes(),
            headers={"Content-Type": _CONTENT_TYPES.get(path.suffix, "application/octet-stream")},
            request=request,
        )


def route(url: httpx.URL) -> tuple[str | None, bool]:
    """(file name, whether a missing file means an empty public-inspection issue)."""
    path = url.path
    if path.endswith("/public-inspection-documents/current.json"):
        return "public_inspection_current.json", True
    if path.endswith(("/public-inspection-documents.json", "/public-inspection-documents")):
        day = url.params.get("conditions[available_on]")
        return (f"public_inspection_{day}.json", True) if day else (None, False)
    if path.endswith(("/documents.json", "/documents")):
        page = url.params.get("page", "1")
        return ("documents_search.json" if page in ("", "1") else f"documents_search_page{page}.json"), False
    if match := _PI_RAW_TEXT.search(path):
        digits = "".join(match.groups())
        return f"public_inspection_{digits[:4]}-{digits[4:]}.txt", False
    if match := _DOCUMENT_JSON.search(path):
        return f"document_{match.group(1)}.json", False
    if path.endswith(("/consolidated.json", "/consolidated.csv")):
        return path.rsplit("/", 1)[-1], False
    if match := _FULL_TEXT.search(path):
        return f"{match.group(1)}.{match.group(2)}", False
    return None, False


def _not_found(message: str) -> httpx.Response:
    return httpx.Response(404, content=json.dumps({"status": 404, "message": message}).encode())
