"""Where the suite finds the project's shared reference data (real feed responses, prices, matching labels).

The data lives beside the repository (``../shared``) in a normal checkout. A checkout elsewhere (a CI clone in a
temporary directory) finds it through ``MONITOR_SHARED_DIR`` or the machine's ``/work/shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    candidates = [os.environ.get("MONITOR_SHARED_DIR", ""), str(ROOT.parent / "shared"), "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "data").is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"  # missing: tests that need it fail naming this path


SHARED = _shared()
SHARED_DATA = SHARED / "data"
FIXTURES = ROOT / "tests" / "fixtures"
