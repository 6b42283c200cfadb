"""The Consolidated Screening List bulk file: conditional fetch, JSON or CSV parsing by header name, and the diff.

The CSL is confirmation, not detection: it updates after Federal Register publication. It is fetched with
``If-None-Match``/``If-Modified-Since`` so an unchanged list costs one small 304. JSON is preferred; when it
fails, the CSV beside it is used. Multi-valued CSV cells are joined with "; " and a trailing "and "; both
formats normalize to the same ``CslRecord`` so switching format never looks like a change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor.errors import FeedRejected, FeedUnavailable
from monitor.feeds.countries import country_iso
from monitor.feeds.http import FeedHttp
from monitor.logs import get_logger

log = get_logger(__name__)

ENTITY_LIST_CODE = "EL"
_SOURCE_CODE = re.compile(r"\(([A-Z]{2,6})\)")
_MULTI_SPLIT = re.compile(r";\s*(?:and\s+)?")


@dataclass(frozen=True)
class CslRecord:
    entry_id: str
    source: str
    source_code: str
    name: str
    alt_names: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    federal_register_notice: str | None = None
    start_date: date | None = None
    license_requirement: str | None = None
    license_policy: str | None = None

    @property
    def row_hash(self) -> str:
        payload = [
            self.source_code, self.name, self.alt_names, self.addresses, self.countries,
            self.federal_register_notice, self.start_date.isoformat() if self.start_date else None,
            self.license_requirement, self.license_policy,
        ]  # fmt: skip
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()

    @property
    def is_entity_list(self) -> bool:
        return self.source_code == ENTITY_LIST_CODE

    @property
    def citations(self) -> tuple[str, ...]:
        """ "83 FR 37423; 87 FR 77505" → ("83 FR 37423", "87 FR 77505"); F.R. spellings normalized."""
        found = re.findall(r"(\d+)\s*F\.?\s*R\.?\s*(\d+)", self.federal_register_notice or "")
        return tuple(f"{volume} FR {page}" for volume, page in found)


@dataclass(frozen=True)
class CslFetch:
    not_modified: bool
    records: tuple[CslRecord, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    url: str | None = None
    size: int = 0


@dataclass(frozen=True)
class CslDiff:
    new: tuple[CslRecord, ...]
    changed: tuple[CslRecord, ...]
    removed: tuple[str, ...]  # entry ids no longer on the list
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.new or self.changed or self.removed)


def diff_snapshot(stored: Mapping[str, str], current: Iterable[CslRecord]) -> CslDiff:
    """Pure: ``stored`` maps each active entry id to its row hash; ``current`` is the fresh list."""
    new: list[CslRecord] = []
    changed: list[CslRecord] = []
    unchanged = 0
    present: set[str] = set()
    for record in current:
        if record.entry_id in present:
            continue
        present.add(record.entry_id)
        previous = stored.get(record.entry_id)
        if previous is None:
            new.append(record)
        elif previous != record.row_hash:
            changed.append(record)
        else:
            unchanged += 1
    removed = tuple(sorted(entry_id for entry_id in stored if entry_id not in present))
    return CslDiff(new=tuple(new), changed=tuple(changed), removed=removed, unchanged=unchanged)


class CslClient:
    def __init__(self, http: FeedHttp, url: str) -> None:
        self.http = http
        self.url = url

    @property
    def urls(self) -> list[str]:
        """The configured file first, then its CSV sibling as the fallback."""
        if self.url.endswith(".json"):
            return [self.url, self.url[: -len(".json")] + ".csv"]
        return [self.url]

    def fetch(self, *, etag: str | None = None, last_modified: str | None = None) -> CslFetch:
        problems: list[str] = []
        for index, url in enumerate(self.urls):
            headers = {}
            if index == 0 and etag:
                headers["If-None-Match"] = etag
            if index == 0 and last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                response = self.http.get(url, headers=headers, ok_statuses=frozenset({200, 304}))
                if response.status_code == 304:
                    return CslFetch(not_modified=True, etag=etag, last_modified=last_modified, url=url)
                body = response.content
                records = parse_csl(body, content_type=response.headers.get("Content-Type", ""), url=url)
            except (FeedUnavailable, FeedRejected) as exc:
                problems.append(str(exc))
                log.warning("csl_fetch_failed", url=url, error=str(exc), fallback=index + 1 < len(self.urls))
                continue
            return CslFetch(
                not_modified=False,
                records=tuple(records),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                sha256=hashlib.sha256(body).hexdigest(),
                url=url,
                size=len(body),
            )
        raise FeedUnavailable("Consolidated Screening List unavailable: " + " | ".join(problems), url=self.url)


def parse_csl(data: bytes, *, content_type: str = "", url: str = "") -> list[CslRecord]:
    """JSON or CSV, decided by the content type, then the first byte, then the URL."""
    head = data.lstrip()[:1]
    if "csv" in content_type or "tab-separated" in content_type:
        return parse_csl_csv(data, url=url)
    if "json" in content_type or head in (b"{", b"[") or (url.endswith(".json") and not content_type):
        return parse_csl_json(data, url=url)
    return parse_csl_csv(data, url=url)


def parse_csl_json(data: bytes, *, url: str = "") -> list[CslRecord]:
    try:
        payload = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FeedUnavailable(f"CSL JSON {url or ''} is not valid JSON: {exc}", url=url or None) from None
    rows = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise FeedUnavailable(f"CSL JSON {url or ''} has no 'results' list", url=url or None)
    records = [record for row in rows if isinstance(row, dict) and (record := _from_json(row)) is not None]
    return records


def parse_csl_csv(data: bytes | str, *, url: str = "") -> list[CslRecord]:
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames or "source" not in reader.fieldnames:
        raise FeedUnavailable(f"CSL CSV {url or ''} lacks the 'name'/'source' header columns", url=url or None)
    records: list[CslRecord] = []
    for row in reader:
        record = _from_flat(row)
        if record is not None:
            records.append(record)
    return records


def split_multi(value: str | None) -> tuple[str, ...]:
    """ "A; B; and C" → (A, B, C)."""
    if not value:
        return ()
    parts = (part.strip().removeprefix("and ").strip() for part in _MULTI_SPLIT.split(value))
    return tuple(dict.fromkeys(part for part in parts if part))


def source_code(source: str) -> str:
    match = _SOURCE_CODE.search(source)
    return match.group(1) if match else source.strip()[:16]


def _from_flat(row: Mapping[str, str | None]) -> CslRecord | None:
    entry_id = (row.get("_id") or row.get("id") or "").strip()
    name = (row.get("name") or "").strip()
    source = (row.get("source") or "").strip()
    if not entry_id or not name:
        return None
    addresses = split_multi(row.get("addresses"))
    return CslRecord(
        entry_id=entry_id,
        source=source,
        source_code=source_code(source),
        name=name,
        alt_names=split_multi(row.get("alt_names")),
        addresses=addresses,
        countries=_countries(address.rsplit(",", 1)[-1] for address in addresses),
        federal_register_notice=_blank(row.get("federal_register_notice")),
        start_date=_date(row.get("start_date")),
        license_requirement=_blank(row.get("license_requirement")),
        license_policy=_blank(row.get("license_policy")),
    )


def _from_json(row: Mapping[str, Any]) -> CslRecord | None:
    entry_id = str(row.get("id") or row.get("_id") or "").strip()
    name = str(row.get("name") or "").strip()
    if not entry_id or not name:
        return None
    source = str(row.get("source") or "").strip()
    addresses: list[str] = []
    countries: list[str] = []
    for address in row.get("addresses") or []:
        if isinstance(address, dict):
            keys = ("address", "city", "state", "postal_code", "country")
            parts = [str(address.get(key) or "").strip() for key in keys]
            if text := ", ".join(part for part in parts if part):
                addresses.append(text)
            countries.append(str(address.get("country") or ""))
        elif isinstance(address, str):
            addresses.append(address)
    alt_names = row.get("alt_names") or []
    if isinstance(alt_names, str):
        alt_names = list(split_multi(alt_names))
    return CslRecord(
        entry_id=entry_id,
        source=source,
        source_code=source_code(source),
        name=name,
        alt_names=tuple(dict.fromkeys(str(n).strip().removeprefix("and ") for n in alt_names if str(n).strip())),
        addresses=tuple(addresses),
        countries=_countries(countries),
        federal_register_notice=_blank(row.get("federal_register_notice")),
        start_date=_date(row.get("start_date")),
        license_requirement=_blank(row.get("license_requirement")),
        license_policy=_blank(row.get("license_policy")),
    )


def _countries(values: Iterable[str]) -> tuple[str, ...]:
    codes = (country_iso(value.strip()) for value in values if value and value.strip())
    return tuple(dict.fromkeys(code for code in codes if code))


def _blank(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any) -> date | None:
    text = str(value or "").strip()[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
