"""Start-up benchmark: ``monitor --help`` as a whole cold process, beside a bare interpreter and ``import typer``.

Run: ``python -m benchmarks.startup``. Each figure is the best of several runs of a fresh ``python`` process (the
least noisy figure on a shared machine); the target (issue 17) is 0.25 s for ``monitor --help``. No inputs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks._table import Row, report

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.25
RUNS = 10


def cold(args: list[str], runs: int = RUNS) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    bare = cold(["-c", "pass"])
    typer = cold(["-c", "import typer"])
    help_ = cold(["-m", "monitor", "--help"])
    rows = [
        Row("python -c pass (cold)", f"{bare:.3f} s", "", None),
        Row("python -c 'import typer' (cold)", f"{typer:.3f} s", "", None),
        Row("monitor --help (cold, whole process)", f"{help_:.3f} s", f"≤ {TARGET_SECONDS} s", help_ <= TARGET_SECONDS),
        Row("monitor --help / import typer", f"{help_ / typer:.2f}×", "", None),
    ]
    return 0 if report(f"start-up, best of {RUNS} cold processes", rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
