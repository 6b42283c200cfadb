"""Entity List market-reaction monitor.

The package is the domain and its adapters; ``jobs`` and ``alerts`` build on it, and ``monitor.cli`` wires
everything together. Importing it must stay cheap: nothing connects or loads heavy libraries at import time.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("entity-list-monitor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
