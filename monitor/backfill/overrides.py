"""Announcement times that beat a rule's own signals: the shipped list of known cases, plus the operator's file.

Some rules were public before anything the Federal Register records: a Commerce press release the evening before
the public-inspection filing (Huawei, 2019-05-15), or a newswire scoop (SMIC, 2020-12-17). The shipped file holds
the cases we know, each with its source; ``--overrides FILE`` adds to it and wins where both name a rule.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path

from monitor.events import merge_overrides, read_overrides

SHIPPED_NAME = "announcement_overrides.csv"


def shipped_overrides() -> dict[str, datetime]:
    """The overrides shipped with this version (``monitor/backfill/data/announcement_overrides.csv``)."""
    with resources.as_file(resources.files("monitor.backfill").joinpath("data", SHIPPED_NAME)) as path:
        return read_overrides(Path(path))


def load_overrides(extra: Path | None = None, *, shipped: bool = True) -> dict[str, datetime]:
    """The shipped overrides (unless ``shipped=False``) with ``extra``'s on top; a bad file raises ``InputError``."""
    return merge_overrides(shipped_overrides() if shipped else {}, read_overrides(extra) if extra else {})
