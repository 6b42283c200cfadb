"""Building the feed clients from settings: the only place that decides live network versus saved responses.

The daemon, ``monitor poll``, ``monitor extract``, the backfill (``--source dir:PATH``) and the demo all call
``build_poller``/``build_clients``; only the transport differs, so saved responses exercise the same code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import Clock
from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.feeds.csl import CslClient
from monitor.feeds.federal_register import FederalRegisterClient
from monitor.feeds.http import FeedHttp, build_http_client
from monitor.feeds.poll import FeedPoller
from monitor.feeds.saved import SavedResponsesTransport


@dataclass
class FeedClients:
    http: httpx.Client
    federal_register: FederalRegisterClient
    csl: CslClient

    def close(self) -> None:
        self.http.close()


def transport_for(source: str | None, *, option: str = "--source") -> httpx.BaseTransport | None:
    """``None``/``"live"`` → the network; ``"dir:PATH"`` (or a bare directory path) → saved responses. ``option``
    is what the user typed to name the directory (``--source``, ``--from-dir``): the error names it."""
    if source is None or source in ("", "live"):
        return None
    path = Path(source.removeprefix("dir:")).expanduser()
    if not path.is_dir():
        raise ConfigError(f"saved responses directory {path} does not exist", setting=option)
    return SavedResponsesTransport(path)


def build_clients(
    settings: Settings,
    *,
    source: str | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock | None = None,
    option: str = "--source",
) -> FeedClients:
    """One shared ``httpx.Client``; a ``FeedHttp`` per feed so requests are counted per feed."""
    client = build_http_client(settings, transport if transport is not None else transport_for(source, option=option))
    fr_http = FeedHttp(client, settings.network, feed="federal_register", sleep=sleep, clock=clock)
    csl_http = FeedHttp(client, settings.network, feed="csl", sleep=sleep, clock=clock)
    return FeedClients(
        http=client,
        federal_register=FederalRegisterClient(fr_http, settings.federal_register_url),
        csl=CslClient(csl_http, settings.csl_url),
    )


def build_poller(settings: Settings, sessions: sessionmaker[Session], clock: Clock, clients: FeedClients) -> FeedPoller:
    return FeedPoller(sessions, clients.federal_register, clients.csl, clock, settings.feeds)
