"""Announcement times that beat a rule's own signals: the shipped list of known cases, plus the operator's file.

Some rules were public before anything the Federal Register records: a Commerce press release the evening before
the public-inspection filing (Huawei, 2019-05-15), or a newswire scoop (SMIC, 2020-12-17). The shipped file holds
the cases we know, each with its source; ``--overrides FILE`` adds to it and wins where both name a rule.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path

from monitor.clock import parse_instant
from monitor.errors import InputError

SHIPPED_NAME = "announcement_overrides.csv"


def shipped_overrides() -> dict[str, datetime]:
    """The overrides shipped with this version (``monitor/backfill/data/announcement_overrides.csv``)."""
    with resources.as_file(resources.files("monitor.backfill").joinpath("data", SHIPPED_NAME)) as path:
        return read_overrides(Path(path))


def load_overrides(extra: Path | None = None, *, shipped: bool = True) -> dict[str, datetime]:
    """The shipped overrides (unless ``shipped=False``) with ``extra``'s on top; a bad file raises ``InputError``."""
    return merge_overrides(shipped_overrides() if shipped else {}, read_overrides(extra) if extra else {})


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
