"""The dependency rule from DESIGN.md, read from the import graph: only ``monitor/commands/`` (the composition
root) imports ``jobs/`` or ``alerts/``, and ``jobs/`` and ``alerts/`` never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement is (functions and TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def importers(paths: list[Path], targets: tuple[str, ...]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for path in paths:
        bad = sorted(name for name in imports_of(path) if name.split(".")[0] in targets)
        if bad:
            hits[path.relative_to(ROOT).as_posix()] = bad
    return hits


def test_only_the_composition_root_imports_jobs_or_alerts() -> None:
    outside = [p for p in modules("monitor") if "commands" not in p.relative_to(ROOT / "monitor").parts]
    assert outside, "no modules found: is ROOT right?"
    assert importers(outside, ("jobs", "alerts")) == {}


@pytest.mark.parametrize(("package", "forbidden"), [("jobs", "alerts"), ("alerts", "jobs")])
def test_jobs_and_alerts_do_not_import_each_other(package: str, forbidden: str) -> None:
    assert importers(modules(package), (forbidden,)) == {}


def test_the_import_reader_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from alerts.delivery import DeliveryWorker\n", encoding="utf-8")
    assert "alerts.delivery" in imports_of(sample)
