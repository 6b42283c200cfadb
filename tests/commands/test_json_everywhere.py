"""``--json`` everywhere: every command takes it, and the README's command table says so on the command's row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from monitor.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, Any]:
    """Every leaf command by its full name (``universe refresh-sec``), read from the CLI itself (typer's own click:
    a group is what has subcommands)."""
    found: dict[str, Any] = {}

    def walk(command: Any, name: str) -> None:
        if hasattr(command, "commands"):
            for child_name, child in command.commands.items():
                walk(child, f"{name} {child_name}".strip())
        else:
            found[name] = command

    walk(typer.main.get_command(app), "")
    return found


def test_every_command_takes_json() -> None:
    found = commands()
    assert len(found) > 25  # the walk reached the groups' commands
    missing = [name for name, command in found.items() if not any("--json" in p.opts for p in command.params)]
    assert missing == []


def test_the_readme_documents_json_on_every_commands_row() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `monitor ")]
    for name in commands():
        row = [line for line in rows if re.match(rf"\| `monitor {re.escape(name)}[ `]", line)]
        assert row, f"no row for `monitor {name}` in the README's command table"
        assert "--json" in row[0], name
