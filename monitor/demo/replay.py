"""What the offline demo replays: saved Federal Register responses served as they stood at the simulated time, and
the moments at which the daemon would have acted.

``ReplayTransport`` wraps the saved-responses transport (``monitor.feeds.saved``) with a clock: a document is not
in the search, and its XML is a 404, before its issue went online (06:00 New York time on its publication date);
a public-inspection filing is not listed before its ``filed_at``; ``current.json`` is the issue of the simulated
day. So the same poller, extractor and pipeline see the past exactly as it unfolded, without look-ahead.

``timeline`` lists the daemon's due moments between two instants: each public-inspection posting slot (polled 15 s
after it, as the daemon's burst does), each morning's Federal Register issue, and each exchange close plus the bar
margin (prices refreshed, studies updated, follow-ups due).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx

from monitor.clock import NEW_YORK, Clock, parse_instant
from monitor.feeds.saved import SavedResponsesTransport, route
from monitor.feeds.schedule import posting_times_on
from monitor.pipeline.dating import publication_instant
from monitor.prices.calendars import Calendars

PI_POLL_DELAY = timedelta(seconds=15)  # the daemon polls public inspection every 15 s right after a posting slot
ISSUE_POLL = time(6, 5)  # the documents poll after the day's issue went online at 06:00
_NUMBER = re.compile(r"(\d{4}-\d{4,6})")


@dataclass(frozen=True, order=True)
class Step:
    at: datetime
    kind: str  # "pi" | "documents" | "close"
    calendar: str = ""


class ReplayTransport(httpx.BaseTransport):
    """Saved responses, as they stood at ``clock.now()``."""

    def __init__(self, directory: Path, clock: Clock) -> None:
        self.saved = SavedResponsesTransport(directory)
        self.directory = directory
        self.clock = clock
        self._published = self._publication_dates()

    def _publication_dates(self) -> dict[str, date]:
        dates: dict[str, date] = {}
        for path in self.directory.glob("document_*.json"):
            body = json.loads(path.read_text(encoding="utf-8"))
            if body.get("publication_date"):
                dates[str(body["document_number"])] = date.fromisoformat(body["publication_date"])
        return dates

    def _is_published(self, number: str) -> bool:
        published = self._published.get(number)
        return published is not None and publication_instant(published) <= self.clock.now()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        now = self.clock.now()
        name, _ = route(request.url)
        path = request.url.path
        if path.endswith("/public-inspection-documents/current.json"):  # the issue of the simulated day
            today = now.astimezone(NEW_YORK).date().isoformat()
            url = request.url.copy_with(path=path.removesuffix("/current.json") + ".json", params={})
            request = httpx.Request("GET", url.copy_add_param("conditions[available_on]", today))
            name, _ = route(request.url)
        if name is None:
            return self.saved.handle_request(request)
        if name.startswith("public_inspection_") and name.endswith(".json"):
            day = date.fromisoformat(name.removeprefix("public_inspection_").removesuffix(".json"))
            if day > now.astimezone(NEW_YORK).date():
                return _json(request, {"count": 0, "results": []})
            return self._filtered(request, self._pi_issue)
        if name.startswith("documents_search"):
            return self._filtered(request, self._search_page)
        if name.startswith("public_inspection_") and name.endswith(".txt"):
            return self._until_filed(request, name)
        found = _NUMBER.search(name)
        if found and not self._is_published(found.group(1)):
            return httpx.Response(404, json={"status": 404, "message": f"not published yet: {name}"}, request=request)
        return self.saved.handle_request(request)

    def _filtered(self, request: httpx.Request, edit: Any) -> httpx.Response:
        response = self.saved.handle_request(request)
        if response.status_code != 200:
            return response
        return _json(request, edit(json.loads(response.content), request))

    def _pi_issue(self, body: dict[str, Any], request: httpx.Request) -> dict[str, Any]:
        now = self.clock.now()
        results = [r for r in body.get("results", []) if (_moment(r.get("filed_at")) or now) <= now]
        out = {**body, "results": results, "count": len(results)}
        for key in ("special_filings_updated_at", "regular_filings_updated_at"):
            moment = _moment(body.get(key))
            out[key] = body.get(key) if moment is not None and moment <= now else None
        return out

    def _search_page(self, body: dict[str, Any], request: httpx.Request) -> dict[str, Any]:
        params = request.url.params
        low, high = params.get("conditions[publication_date][gte]"), params.get("conditions[publication_date][lte]")
        results = []
        for record in body.get("results", []):
            published = record.get("publication_date") or ""
            if not published or publication_instant(date.fromisoformat(published)) > self.clock.now():
                continue  # not online yet
            if (low and published < low) or (high and published > high):
                continue
            results.append(record)
        return {**body, "results": results, "count": len(results), "total_pages": 1, "next_page_url": None}

    def _until_filed(self, request: httpx.Request, name: str) -> httpx.Response:
        number = name.removeprefix("public_inspection_").removesuffix(".txt")
        filed = self._filed_at(number)
        if filed is None or filed > self.clock.now():
            return httpx.Response(404, json={"status": 404, "message": f"not filed yet: {number}"}, request=request)
        return self.saved.handle_request(request)

    def _filed_at(self, number: str) -> datetime | None:
        for path in sorted(self.directory.glob("public_inspection_*.json")):
            for record in json.loads(path.read_text(encoding="utf-8")).get("results", []):
                if record.get("document_number") == number and record.get("filed_at"):
                    return _moment(record["filed_at"])
        return None


def _moment(value: str | None) -> datetime | None:
    return parse_instant(value, "saved filed_at") if value else None


def _json(request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body, request=request)


def timeline(
    start: datetime, end: datetime, calendars: Calendars, exchanges: Iterable[str], *, margin_minutes: int
) -> list[Step]:
    """Every moment in ``[start, end)`` at which the daemon would have done something, in order."""
    steps: list[Step] = []
    day = start.astimezone(NEW_YORK).date()
    last = end.astimezone(NEW_YORK).date()
    while day <= last:
        steps += [Step(slot + PI_POLL_DELAY, "pi") for slot in posting_times_on(day)]
        steps.append(Step(datetime.combine(day, ISSUE_POLL, tzinfo=NEW_YORK), "documents"))
        day += timedelta(days=1)
    for calendar in exchanges:
        for session in calendars.sessions(calendar, start.date() - timedelta(days=1), end.date()):
            close = calendars.session_close(calendar, session.date())
            steps.append(Step(close + timedelta(minutes=margin_minutes, seconds=30), "close", calendar))
    return sorted(step for step in steps if start <= step.at < end)
