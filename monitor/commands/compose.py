"""The composition root: the one place that turns settings into working parts.

The commands call these builders; ``jobs/`` receives its parts from here instead of reaching for ``alerts/`` or
building clients itself, so the dependency rule holds: only ``monitor/commands/`` imports ``jobs/`` or ``alerts/``.

- ``make_source``: the price source named by ``prices.source`` or ``--source`` (``yfinance`` or ``dir:PATH``).
- ``build_sink`` / ``build_sinks``: the configured alert sinks (plus the console, for operator alerts).
- ``delivery_worker``: the outbox's delivery side over those sinks.
- ``daemon`` / ``daemon_parts``: ``monitor run``'s daemon and what it runs (pipelines, feed clients and poller,
  delivery worker, leases, job runner, probes).
- ``backfill``: ``monitor backfill``'s runner, whose per-run pipeline (on the run's replay clock) is built here.
- ``demo``: ``monitor demo``'s replay, on a simulated clock, the saved feeds and the shipped prices.

Everything is imported inside the builders: importing this module costs nothing, so ``monitor --help`` stays fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console
    from rich.console import Console as RichConsole
    from sqlalchemy.orm import Session, sessionmaker

    from alerts.delivery import DeliveryWorker
    from alerts.sink import Sink
    from jobs.checks import StartupCheck
    from jobs.daemon import Daemon, DaemonParts
    from monitor.backfill import Backfill
    from monitor.backfill.runner import Progress
    from monitor.bootstrap import AppContext
    from monitor.clock import Clock
    from monitor.config import Settings
    from monitor.demo.story import Demo
    from monitor.feeds.federal_register import FederalRegisterClient
    from monitor.feeds.poll import FeedPoller
    from monitor.prices.calendars import Calendars
    from monitor.prices.sources import PriceSource


def make_source(spec: str, *, settings: Settings | None = None, option: str = "prices.source") -> PriceSource:
    """The source named by ``settings.prices.source`` or a flag: ``yfinance`` or ``dir:PATH``; ``option`` is the
    flag (``--source``, ``--prices``) or setting that gave ``spec``, and errors name it."""
    from monitor.errors import ConfigError

    if spec.startswith("dir:") and len(spec) > 4:
        from monitor.prices.sources import CsvDirectorySource

        return CsvDirectorySource(spec[4:], option=option)
    if spec == "yfinance":
        from monitor.config import Settings
        from monitor.prices.yfinance_source import YFinanceSource

        resolved = settings if settings is not None else Settings()
        return YFinanceSource.from_settings(resolved)
    raise ConfigError(f"expected 'yfinance' or 'dir:PATH', got {spec!r}", setting=option)


def build_sink(
    name: str,
    settings: Settings,
    *,
    console: Console | None = None,
    webhook_transport: Any = None,
    slack_options: dict[str, Any] | None = None,
) -> Sink:
    """One sink by name (slack, webhook, console). Connects to nothing until it sends; raises ConfigError."""
    if name == "slack":
        from alerts.slack import SlackSink

        return SlackSink.from_settings(settings, **(slack_options or {}))
    if name == "webhook":
        from alerts.webhook import WebhookSink

        return WebhookSink.from_settings(settings, transport=webhook_transport)
    if name == "console":
        from alerts.console import ConsoleSink

        return ConsoleSink(console, chart_dir=settings.data_dir / "charts" if settings.alerts.charts else None)
    raise ValueError(f"unknown sink {name!r}")


def build_sinks(settings: Settings, **options: Any) -> dict[str, Sink]:
    """Every configured sink, keyed by name (see ``monitor.outbox.configured_sinks``), plus the console.

    The console is always there to deliver to, even when alerts are not routed to it: it is where an operator
    alert lands when the only configured sink is the one failing.
    """
    from monitor.outbox import configured_sinks

    names = dict.fromkeys([*configured_sinks(settings), "console"])
    return {name: build_sink(name, settings, **options) for name in names}


def delivery_worker(
    sessions: sessionmaker[Session], settings: Settings, clock: Clock, *, sinks: dict[str, Sink] | None = None
) -> DeliveryWorker:
    """The delivery side of the outbox over ``sinks`` (by default every configured one)."""
    from alerts.delivery import DeliveryWorker

    return DeliveryWorker(
        sessions, sinks if sinks is not None else build_sinks(settings), settings=settings, clock=clock
    )


def daemon(
    context: AppContext,
    *,
    clock: Clock,
    report: Callable[[StartupCheck], None] | None = None,
    alert_console: Console | None = None,
) -> Daemon:
    """``monitor run``'s daemon: its start-up checks and its parts come from here. ``alert_console``: where the
    console sink prints (stdout by default; stderr when stdout carries ``--json``)."""
    from alerts.slack import make_client
    from jobs.daemon import Daemon

    def build(
        settings: Settings,
        sessions: sessionmaker[Session],
        calendars: Calendars,
        clock: Clock,
        stop: threading.Event,
        scheduler_alive: Callable[[], bool],
    ) -> DaemonParts:
        return daemon_parts(settings, sessions, calendars, clock, stop, scheduler_alive, alert_console=alert_console)

    return Daemon(context, clock=clock, report=report, build=build, slack_client=make_client)


def daemon_parts(
    settings: Settings,
    sessions: sessionmaker[Session],
    calendars: Calendars,
    clock: Clock,
    stop: threading.Event,
    scheduler_alive: Callable[[], bool],
    *,
    alert_console: Console | None = None,
) -> DaemonParts:
    """What the daemon runs. The pipeline, pollers and outbox run on the daemon's ``clock``; HTTP retries and
    leases on the wall clock (they coordinate real processes), and retry pauses end as soon as ``stop`` is set."""
    from datetime import timedelta

    from jobs.closes import CloseWatch
    from jobs.daemon import DaemonParts
    from jobs.health import Probes
    from jobs.leasing import LeaseKeeper
    from jobs.runner import JobRunner
    from jobs.scheduler import Waker
    from jobs.tasks import DaemonTasks, interruptible_sleep
    from monitor.clock import SystemClock
    from monitor.db.leases import reclaim_local_leases
    from monitor.feeds.wiring import build_clients, build_poller
    from monitor.models import FeedName
    from monitor.pipeline import Pipeline, PipelineOptions

    keeper = LeaseKeeper(sessions, ttl=timedelta(seconds=settings.daemon.lease_ttl_seconds))
    reclaim_local_leases(sessions, keeper.owner)
    price_source = make_source(settings.prices.source, settings=settings)
    # Each document is processed under its own lease, so a replica's poll and another's sweep never both run it.
    pipeline = Pipeline(
        sessions, settings, clock, calendars=calendars, price_source=price_source, exclusive=keeper.hold
    )
    recheck = Pipeline(
        sessions,
        settings,
        clock,
        calendars=calendars,
        price_source=price_source,
        options=PipelineOptions(quote_budget_seconds=0.0),
    )
    clients = build_clients(settings, sleep=interruptible_sleep(stop), clock=SystemClock())
    poller = build_poller(settings, sessions, clock, clients)
    worker = delivery_worker(sessions, settings, clock, sinks=build_sinks(settings, console=alert_console))
    runner = JobRunner(keeper, stop)
    waker = Waker(runner)
    tasks = DaemonTasks(
        sessions=sessions,
        clock=clock,
        pipeline=pipeline,
        poller=poller,
        worker=worker,
        closes=CloseWatch(calendars, margin_minutes=settings.prices.bar_margin_minutes),
        stop=stop,
        batch_size=settings.alerts.batch_size,
        wake=waker,
        recheck=recheck,
    )
    probes = Probes(
        sessions,
        settings,
        clock,
        feeds=[FeedName(feed) for feed in settings.daemon.feeds],
        scheduler_alive=scheduler_alive,
        stopping=stop.is_set,
    )
    return DaemonParts(tasks=tasks, runner=runner, clients=clients, probes=probes, waker=waker)


def demo(sessions: sessionmaker[Session], settings: Settings, *, data: Path, console: RichConsole) -> Demo:
    """The offline replay: a simulated clock at the demo's start, the saved feeds served as they stood at it, and
    the pipeline on the shipped prices. Studies read the store the close-time refreshes keep current, as the
    daemon's do; the store is not asked to fetch the years before 2018 the placebo dates would like (the shipped
    files start there)."""
    from monitor.clock import SimulatedClock
    from monitor.demo.replay import ReplayTransport
    from monitor.demo.story import START, CachedCsvSource, Demo, DemoParts
    from monitor.feeds.wiring import build_clients, build_poller
    from monitor.pipeline import Pipeline, PipelineOptions
    from monitor.pipeline.bars import StoreBars
    from monitor.prices.calendars import calendars_from_settings
    from monitor.prices.store import PriceStore

    clock = SimulatedClock(START)
    calendars = calendars_from_settings(settings)
    clients = build_clients(
        settings, transport=ReplayTransport(data / "feeds", clock), clock=clock, sleep=lambda _: None
    )
    store = PriceStore.from_settings(sessions, settings, clock=clock, calendars=calendars)
    pipeline = Pipeline(
        sessions,
        settings,
        clock,
        calendars=calendars,
        price_source=CachedCsvSource(data / "prices"),
        options=PipelineOptions(alerts=True, backfill=False),
        bars=StoreBars(store, None, clock=clock),
    )
    parts = DemoParts(clock, calendars, clients, build_poller(settings, sessions, clock, clients), pipeline)
    return Demo(sessions, settings, parts=parts, console=console)


def backfill(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    calendars: Calendars,
    poller: FeedPoller | None,
    federal_register: FederalRegisterClient | None,
    price_source: PriceSource | None,
    clock: Clock,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Backfill:
    """The backfill runner. Its pipeline reads bars from the store only, through one cache across the run's events
    (read lazily, in the studies stage, after the prices are fetched)."""
    from monitor.backfill import Backfill
    from monitor.backfill.bars import CachedStoreBars
    from monitor.pipeline import Pipeline, PipelineOptions

    def pipeline(replay: Clock, options: PipelineOptions) -> Pipeline:
        bars = CachedStoreBars(sessions)
        return Pipeline(sessions, settings, replay, calendars=calendars, price_source=None, options=options, bars=bars)

    return Backfill(
        sessions,
        settings,
        calendars=calendars,
        poller=poller,
        federal_register=federal_register,
        price_source=price_source,
        clock=clock,
        pipeline=pipeline,
        progress=progress,
        stop=stop,
    )
