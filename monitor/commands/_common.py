"""Small helpers shared by the command modules."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from monitor.bootstrap import AppContext

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def app_context(ctx: typer.Context) -> AppContext:
    from monitor.bootstrap import AppContext

    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # a command invoked without the root callback (tests calling directly)
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj


def print_json(payload: object) -> None:
    """Machine-readable output goes to stdout alone, so ``--json`` pipes cleanly into jq."""
    import json

    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
