"""The newest shipped migration, read from the version files with the standard library alone.

Every command checks the schema before it runs, and alembic's own answer (``migrate.head_revision``) costs
importing alembic and its DDL machinery, a fifth of a cold ``monitor match``; the cold match's embedded-database
path (``matching.persisted.embedded_current_index``) does not even import SQLAlchemy. Tests hold this equal to
alembic's head.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION_LINE = re.compile(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']\s*$", re.MULTILINE)
_DOWN_REVISION_LINE = re.compile(r"^down_revision\b[^=]*=\s*(?:None|[\"']([^\"']+)[\"'])\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def shipped_head() -> str | None:
    """The revision no other shipped migration builds on, from each file's ``revision`` and ``down_revision`` lines.

    None when the files do not form one plain chain (a merge, a tuple ``down_revision``): then only alembic is
    trusted.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION_LINE.findall(source)
        down = _DOWN_REVISION_LINE.search(source)
        if len(revision) != 1 or down is None:
            return None
        revisions.add(revision[0])
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(revisions) == len(parents) + 1 else None
