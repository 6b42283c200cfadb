"""``monitor --help`` stays a cold start of typer and little else, and ``monitor match`` loads no price, study,
scheduler or alert machinery: each as a whole process, read from ``python -X importtime``.

The speed target itself (``--help`` within 0.25 s) is ``python -m benchmarks.startup``; the time bound here is
generous on purpose (a loaded CI box), while the module lists are exact.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # subprocesses

ROOT = Path(__file__).resolve().parents[1]
# What a help screen never needs: storage, settings and domain models, logging, numbers, the outer layers.
NOT_FOR_HELP = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "pydantic_settings",
    "structlog",
    "numpy",
    "pandas",
    "httpx",
    "monitor.config",
    "monitor.models",
    "monitor.bootstrap",
    "jobs",
    "alerts",
)
# What matching a name never needs: prices, calendars, the study engine, charts, HTTP, the scheduler, alerts.
NOT_FOR_MATCH = (
    "numpy",
    "pandas",
    "scipy",
    "exchange_calendars",
    "matplotlib",
    "yfinance",
    "httpx",
    "apscheduler",
    "slack_sdk",
    "monitor.study",
    "monitor.prices",
    "monitor.pipeline",
    "jobs",
    "alerts",
)


def imported(args: list[str], tmp_path: Path) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    env["MONITOR_DATA_DIR"] = str(tmp_path / "data")
    env["MONITOR_MATCHING__MARKET_UNIVERSE"] = "false"  # the curated seed, as the rest of the suite
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "monitor", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "monitor.cli" in names
    return names


def loaded(names: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in packages))


def test_help_imports_nothing_it_does_not_show(tmp_path: Path) -> None:
    assert loaded(imported(["--help"], tmp_path), NOT_FOR_HELP) == []


def test_match_imports_no_prices_study_scheduler_or_alerts(tmp_path: Path) -> None:
    names = imported(["match", "Hangzhou Hikvision Digital Technology Co., Ltd.", "--json"], tmp_path)
    assert "monitor.matching.matcher" in names
    assert loaded(names, NOT_FOR_MATCH) == []


def test_match_on_a_written_index_needs_no_orm_or_migration_machinery(tmp_path: Path) -> None:
    """Once the index file of the universe's version exists, a cold match on the embedded database reads its version
    with sqlite3 alone (no SQLAlchemy at all) and then the file."""
    imported(["match", "Hikvision", "--json"], tmp_path)  # seeds the database and writes the index file
    names = imported(["match", "Hangzhou Hikvision Digital Technology Co., Ltd.", "--json"], tmp_path)
    assert "monitor.matching.persisted" in names
    assert loaded(names, ("alembic", "sqlalchemy", "monitor.db.tables", "monitor.matching.store", "pypinyin")) == []


def test_help_is_quick_as_a_whole_process() -> None:
    """Best of three cold starts under a generous bound (the benchmark holds the real target)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "monitor", "--help"], cwd=ROOT, capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    assert best < 3.0
