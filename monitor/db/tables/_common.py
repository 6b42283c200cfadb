"""Column helpers shared by the table modules."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Default for bookkeeping timestamps; domain times always come from a Clock instead."""
    return datetime.now(UTC)
