"""``announcement``: which signal dates an event, as a golden table worked out by hand from the rules.

The Federal Register's daily issue goes online at 06:00 Eastern: 10:00 UTC under daylight saving (October),
11:00 UTC in winter (December). Ties go to the more authoritative signal (the filing over our sighting of it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from monitor.models import AnnouncementSource as Source
from monitor.pipeline.dating import Signals, announcement

FILED = datetime(2019, 10, 7, 20, 15, tzinfo=UTC)  # 16:15 EDT, the special filing of FR Doc 2019-22210
SEEN = datetime(2019, 10, 7, 20, 16, tzinfo=UTC)  # our poller's first look, a minute later
EDT = timezone(timedelta(hours=-4))

GOLDEN: list[tuple[str, Signals, datetime | None, datetime, Source]] = [
    (
        "the override beats every signal, even a later one",
        Signals(filed_at=FILED, pi_seen_at=SEEN, publication_date=date(2019, 10, 9)),
        datetime(2019, 10, 7, 18, 0, tzinfo=EDT),
        datetime(2019, 10, 7, 22, 0, tzinfo=UTC),
        Source.OVERRIDE,
    ),
    (
        "the filing time beats our later sighting",
        Signals(filed_at=FILED, pi_seen_at=SEEN, publication_date=date(2019, 10, 9)),
        None,
        FILED,
        Source.PI_FILED_AT,
    ),
    (
        "a sighting before a (late-stamped) filing time wins",
        Signals(filed_at=SEEN, pi_seen_at=FILED),
        None,
        FILED,
        Source.FIRST_SEEN,
    ),
    ("a tie goes to the filing time", Signals(filed_at=FILED, pi_seen_at=FILED), None, FILED, Source.PI_FILED_AT),
    ("no filing time: our sighting", Signals(pi_seen_at=SEEN), None, SEEN, Source.FIRST_SEEN),
    (
        "publication only, daylight saving: 06:00 EDT is 10:00 UTC",
        Signals(publication_date=date(2019, 10, 9)),
        None,
        datetime(2019, 10, 9, 10, 0, tzinfo=UTC),
        Source.PUBLICATION,
    ),
    (
        "publication only, winter: 06:00 EST is 11:00 UTC",
        Signals(publication_date=date(2019, 12, 9)),
        None,
        datetime(2019, 12, 9, 11, 0, tzinfo=UTC),
        Source.PUBLICATION,
    ),
    (
        "a filing after the issue went online loses to the publication",
        Signals(filed_at=datetime(2019, 10, 9, 12, 0, tzinfo=UTC), publication_date=date(2019, 10, 9)),
        None,
        datetime(2019, 10, 9, 10, 0, tzinfo=UTC),
        Source.PUBLICATION,
    ),
    (
        "a CSL entry with no document behind it: when we first saw it",
        Signals(first_seen_at=SEEN, from_csl=True),
        None,
        SEEN,
        Source.CSL,
    ),
    (
        "a CSL entry whose rule was published earlier: the publication",
        Signals(first_seen_at=SEEN, publication_date=date(2019, 10, 7), from_csl=True),
        None,
        datetime(2019, 10, 7, 10, 0, tzinfo=UTC),
        Source.PUBLICATION,
    ),
    (
        "a document with nothing but our first sighting of it",
        Signals(first_seen_at=SEEN),
        None,
        SEEN,
        Source.FIRST_SEEN,
    ),
]


@pytest.mark.parametrize(
    ("signals", "override", "moment", "source"), [row[1:] for row in GOLDEN], ids=[r[0] for r in GOLDEN]
)
def test_announcement_golden_table(
    signals: Signals, override: datetime | None, moment: datetime, source: Source
) -> None:
    announced_at, by = announcement(signals, override)
    assert (announced_at, by) == (moment, source)
    assert announced_at.tzinfo is UTC


def test_a_document_without_any_signal_cannot_be_dated() -> None:
    with pytest.raises(ValueError, match="no signal time"):
        announcement(Signals())


def test_a_naive_override_is_refused() -> None:
    with pytest.raises(ValueError, match="override must be timezone-aware"):
        announcement(Signals(filed_at=FILED), datetime(2019, 10, 7, 18, 0))
