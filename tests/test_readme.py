"""The README's first backfill, run as a newcomer would: its commands exactly as written, from the clone's top
directory, then the report opened; and the shell completion it documents."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def first_backfill() -> list[list[str]]:
    """The commands of the README's "Your first backfill" block, continuation lines joined, comments dropped."""
    section = README.split("### Your first backfill")[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def test_the_readme_first_backfill_works_as_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands = first_backfill()
    assert [c[:2] for c in commands] == [
        ["monitor", "backfill"], ["monitor", "events"], ["monitor", "events"], ["monitor", "report"],
    ]  # fmt: skip
    monkeypatch.chdir(ROOT)  # the README's paths are the clone's
    out_dir = commands[-1][commands[-1].index("--out") + 1]
    commands[-1][commands[-1].index("--out") + 1] = str(tmp_path / out_dir)  # not into the clone
    for argv in commands:
        code = main(argv[1:])
        captured = capsys.readouterr()
        assert code == 0, (argv, captured.err[-2000:])
    code = main(["events", "list", "--json"])
    [event] = json.loads(capsys.readouterr().out)
    assert (event["event_id"], event["document_number"], event["entities"]) == (1, "2019-22210", 28)
    assert event["studies"]["complete"] == 9
    html = (tmp_path / out_dir / "report.html").read_text(encoding="utf-8")
    assert "<h2>2019-22210" in html
    assert "ambarella" in html.lower()


def test_the_readme_names_the_saved_files_the_shipped_directory_holds() -> None:
    section = README.split("### Saved responses")[1].split("###")[0]
    tree = re.search(r"```\n(.*?)```", section, re.S)
    assert tree is not None
    named = set(re.findall(r"[├└]── (\S+)", tree.group(1)))
    shipped = {p.name for p in (ROOT / "monitor" / "demo" / "data" / "feeds").iterdir()}
    assert named == shipped


def test_shell_completion_is_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--install-completion" in capsys.readouterr().out
    env = {**os.environ, "_MONITOR_COMPLETE": "complete_bash", "COMP_WORDS": "monitor events ", "COMP_CWORD": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "monitor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["list", "show"]
