"""The real price files in ``../shared/data/prices`` cut to the years the 2019 rules need.

The same bars, a fraction of the rows: a first price refresh loads a symbol's whole file (``^GSPC`` goes back to
1927, 23,000 sessions), so a test that studies an October 2019 event on the full files spends most of its time
writing decades of bars no estimation window reaches. 2016-01 to 2020-06 covers every estimation window (at most
250 sessions before day 0) and every event window of the 2019 rules, with years to spare.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from tests.paths import SHARED_DATA

PRICES = SHARED_DATA / "prices"
FIRST, LAST = "2016-01-01", "2020-06-30"


def write_trimmed_prices(directory: Path, first: str = FIRST, last: str = LAST) -> Path:
    """The real price files cut to ``first``..``last``: the same bars (rows copied as they are), fewer years."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in sorted(PRICES.glob("*.csv")):
        lines = source.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines[1:] if first <= line[:10] <= last]
        (directory / source.name).write_text("\n".join([lines[0], *kept]) + "\n", encoding="utf-8")
    return directory


@lru_cache(maxsize=1)
def recent_prices() -> Path:
    """The trimmed files, written once per test process (on first use) and removed when it exits."""
    directory = Path(tempfile.mkdtemp(prefix="monitor-test-prices-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return write_trimmed_prices(directory)
