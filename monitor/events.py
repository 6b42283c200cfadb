"""Dating an Entity List event: the earliest trustworthy signal that the market could have reacted to.

Pure functions over a stored document's signal times. The public-inspection filing time wins when known (the rule
is public from that moment); a poller's first sighting of the filing is next (``filed_at`` can be missing); the
publication date counts from the moment the Federal Register issue goes online. An operator's override (a press
release before the filing, such as 2019-10-07 for the rule published 2019-10-09) beats everything.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Protocol

from monitor.clock import NEW_YORK, ensure_utc, parse_instant
from monitor.errors import InputError
from monitor.models import AnnouncementSource

# The daily Federal Register issue is posted online at 06:00 Eastern on its publication date.
PUBLICATION_TIME = time(6, 0)


class _CarriesSignals(Protocol):
    @property
    def filed_at(self) -> datetime | None: ...
    @property
    def pi_seen_at(self) -> datetime | None: ...
    @property
    def publication_date(self) -> date | None: ...
    @property
    def first_seen_at(self) -> datetime: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class Signals:
    """The times a document carries (all aware UTC, or None)."""

    filed_at: datetime | None = None
    pi_seen_at: datetime | None = None
    publication_date: date | None = None
    first_seen_at: datetime | None = None
    from_csl: bool = False

    @classmethod
    def of(cls, document: _CarriesSignals) -> Signals:
        """The signals of a stored document (or anything carrying the same fields)."""
        return cls(
            filed_at=document.filed_at,
            pi_seen_at=document.pi_seen_at,
            publication_date=document.publication_date,
            first_seen_at=document.first_seen_at,
            from_csl=document.source == "csl",
        )


def publication_instant(day: date) -> datetime:
    return ensure_utc(datetime.combine(day, PUBLICATION_TIME, tzinfo=NEW_YORK))


def announcement(signals: Signals, override: datetime | None = None) -> tuple[datetime, AnnouncementSource]:
    """``(announced_at, source)``: the override, else the earliest of the document's trustworthy signals."""
    if override is not None:
        return ensure_utc(override, name="override"), AnnouncementSource.OVERRIDE
    candidates: list[tuple[datetime, AnnouncementSource]] = []
    if signals.filed_at is not None:
        candidates.append((signals.filed_at, AnnouncementSource.PI_FILED_AT))
    if signals.pi_seen_at is not None:
        candidates.append((signals.pi_seen_at, AnnouncementSource.FIRST_SEEN))
    if signals.publication_date is not None:
        candidates.append((publication_instant(signals.publication_date), AnnouncementSource.PUBLICATION))
    if signals.from_csl and signals.first_seen_at is not None:
        candidates.append((signals.first_seen_at, AnnouncementSource.CSL))
    if not candidates:
        if signals.first_seen_at is None:
            raise ValueError("a document with no signal time at all cannot be dated")
        candidates.append((signals.first_seen_at, AnnouncementSource.FIRST_SEEN))
    # Ties go to the more authoritative signal: the filing time over our own sighting of it.
    order = list(AnnouncementSource)
    moment, source = min(candidates, key=lambda item: (ensure_utc(item[0]), order.index(item[1])))
    return ensure_utc(moment), source


def read_overrides(path: Path) -> dict[str, datetime]:
    """An override file: CSV ``document_number,announced_at[,note]`` with ISO 8601 times carrying an offset.

    Rules announced before their filing (a press release the evening before) are dated by these. Every bad line
    is reported with its number; a file with any bad line is refused as a whole, since a silently skipped
    override would date an event wrongly.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"announcement overrides {path}: cannot read: {exc.strerror or exc}") from None
    overrides: dict[str, datetime] = {}
    problems: list[str] = []
    reader = csv.DictReader(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if reader.fieldnames is None or not {"document_number", "announced_at"} <= set(reader.fieldnames):
        raise InputError(f"announcement overrides {path}: expected a header 'document_number,announced_at[,note]'")
    for number, row in enumerate(reader, start=2):
        document = (row.get("document_number") or "").strip()
        raw = (row.get("announced_at") or "").strip()
        try:
            moment = parse_instant(raw, f"line {number}: announced_at")
        except InputError as exc:
            problems.append(str(exc))
            continue
        if not document:
            problems.append(f"line {number}: document_number is empty")
        else:
            overrides[document] = moment
    if problems:
        raise InputError(f"announcement overrides {path}: " + "; ".join(problems))
    return overrides


def merge_overrides(*sources: Mapping[str, datetime]) -> dict[str, datetime]:
    merged: dict[str, datetime] = {}
    for source in sources:
        merged.update(source)
    return merged
