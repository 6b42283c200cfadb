"""Dating an Entity List event: the earliest trustworthy signal that the market could have reacted to.

Pure functions over a stored document's signal times; the backfill dates its rules with the same ones. The
public-inspection filing time wins when known (the rule is public from that moment); a poller's first sighting of
the filing is next (``filed_at`` can be missing); the publication date counts from the moment the Federal Register
issue goes online. An operator's override (a press release before the filing, such as 2019-10-07 for the rule
published 2019-10-09; read by ``monitor.backfill.overrides``) beats everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

from monitor.clock import NEW_YORK, ensure_utc
from monitor.models import AnnouncementSource, FeedName

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
            from_csl=document.source == FeedName.CSL,
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
