"""Entity List market-reaction monitor.

The package is the domain and its adapters; ``jobs`` and ``alerts`` build on it, and ``monitor.commands.compose``
wires everything together. Importing it must stay cheap: nothing connects or loads heavy libraries at import time
(``__version__`` is read from the installed metadata on first use).
"""

from __future__ import annotations

from functools import cache

__all__ = ["__version__"]


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("entity-list-monitor")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
