"""The offline demo: October 2019 replayed through the daemon's own pipeline, from data shipped in the package.

A simulated clock walks from 2019-10-01 to 2019-10-25 (New York time), stopping where the daemon would have acted
(``monitor.demo.replay.timeline``): public inspection shows the Xinjiang rule at its 16:15 special filing on
Monday 10-07, after the US close, and the pipeline alerts with the entities its text names; the published XML
arrives on 10-09; after each exchange's close the studies are updated and the follow-ups go out (Shenzhen's day 0
with Hikvision and Dahua halted, New York's with Ambarella's drop, …). Alerts are delivered by the real outbox
worker the caller hands in, so they print (or reach Slack) as they would have then. Nothing touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import NEW_YORK, SimulatedClock
from monitor.config import Settings
from monitor.demo.replay import Step, timeline
from monitor.models import FeedName

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from monitor.feeds.poll import FeedPoller
    from monitor.feeds.wiring import FeedClients
    from monitor.pipeline import Pipeline
    from monitor.prices.calendars import Calendars
    from monitor.report import ReportFiles
    from monitor.report.data import EventRecord

START = datetime(2019, 10, 1, tzinfo=NEW_YORK)
END = datetime(2019, 10, 26, tzinfo=NEW_YORK)  # the end of 10-25
EXCHANGES = {"XSHG": "Shanghai/Shenzhen", "XNYS": "New York"}  # where the shipped prices trade
RULE = "2019-22210"


@contextmanager
def demo_data() -> Iterator[Path]:
    """The shipped data directory (``feeds/`` in the saved-responses layout, ``prices/`` as SYMBOL.csv)."""
    with resources.as_file(resources.files("monitor.demo").joinpath("data")) as path:
        yield Path(path)


def demo_settings(base: Settings, *, data_dir: Path, prices: Path) -> Settings:
    """The user's settings (Slack, routes, study parameters) on a database of the demo's own and its prices."""
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": None,
            "prices": base.prices.model_copy(update={"source": f"dir:{prices}"}),
        }
    )


class CachedCsvSource:
    """The shipped CSV files, each read once: the demo refreshes prices after every close."""

    def __init__(self, directory: Path) -> None:
        from monitor.prices.sources import CsvDirectorySource

        self._source = CsvDirectorySource(directory)
        self._frames: dict[str, pd.DataFrame] = {}

    @property
    def name(self) -> str:
        return self._source.name

    def history(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        from monitor.prices.sources import slice_dates

        if symbol not in self._frames:
            self._frames[symbol] = self._source.history(symbol)  # NoPriceData propagates, as from the files
        return slice_dates(self._frames[symbol], start, end).copy()


@dataclass(frozen=True)
class StoryLine:
    symbol: str
    issuer: str
    name: str  # the short name traders use
    relation: str
    exchange: str
    status: str
    day0: date | None
    halted: tuple[date, ...]  # sessions of the event window without a trade
    reaction_date: date | None  # first trade covering day 0
    reaction_ar: float | None
    car_first_days: float | None  # [0,+1]
    window: tuple[int, int]  # the event window (study.window) of car_window and car_t
    car_window: float | None
    car_t: float | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """``monitor demo --json``'s line: fractions, not percent; dates as ISO 8601."""
        return {
            "symbol": self.symbol,
            "name": self.name,
            "issuer": self.issuer,
            "relation": self.relation,
            "exchange": self.exchange,
            "status": self.status,
            "reason": self.reason,
            "day0": self.day0.isoformat() if self.day0 else None,
            "halted": [day.isoformat() for day in self.halted],
            "reaction_date": self.reaction_date.isoformat() if self.reaction_date else None,
            "reaction_ar": self.reaction_ar,
            "car_0_1": self.car_first_days,
            "window": list(self.window),
            "car": self.car_window,
            "car_t": self.car_t,
        }


@dataclass
class DemoResult:
    alerts: int = 0
    steps: int = 0
    story: list[StoryLine] = field(default_factory=list)
    report: ReportFiles | None = None


@dataclass(frozen=True)
class DemoParts:
    """What the replay runs on, built by the composition root (``monitor.commands.compose.demo``)."""

    clock: SimulatedClock
    calendars: Calendars
    clients: FeedClients
    poller: FeedPoller
    pipeline: Pipeline


class Demo:
    """One replay. ``deliver`` runs one outbox delivery pass at the demo's clock and returns how many were sent."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, *, parts: DemoParts, console: Console
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.console = console
        self.clock = parts.clock
        self.calendars = parts.calendars
        self.clients = parts.clients
        self.poller = parts.poller
        self.pipeline = parts.pipeline
        self._primed: set[int] = set()  # events whose securities' histories are in the store

    def run(
        self,
        deliver: Callable[[], int],
        *,
        out_dir: Path,
        until: datetime = END,
        on_step: Callable[[Step], None] | None = None,
    ) -> DemoResult:
        """Replay from 2019-10-01 to ``until`` (the end of 10-25), then tell the story and write the report."""
        from monitor.report import write_report

        result = DemoResult()
        margin = self.settings.prices.bar_margin_minutes
        try:
            for step in timeline(START, until, self.calendars, EXCHANGES, margin_minutes=margin):
                self.clock.set(step.at)
                if on_step is not None:
                    on_step(step)
                result.steps += 1
                if self._act(step):
                    result.alerts += deliver()
        finally:
            self.clients.close()
        self.clock.set(until)
        with self.sessions() as session:
            from monitor.report.data import load_events

            events = load_events(session)
            names = short_names(session)
        result.story = story(next((e for e in events if e.document_number == RULE), None), names)
        if events:
            result.report = write_report(self.sessions, out_dir, now=self.clock.now())
        return result

    def _act(self, step: Step) -> bool:
        """Do what the daemon would at ``step``; True when something happened worth a delivery pass."""
        if step.kind in ("pi", "documents"):
            feed = FeedName.PUBLIC_INSPECTION if step.kind == "pi" else FeedName.DOCUMENTS
            arrivals = [a for a in self.poller.poll(feed).arrivals if a.is_entity_list]
            if not arrivals:
                return False
            for arrival in arrivals:
                self._announce(step, arrival)
            self.pipeline.handle(arrivals)
            return True
        events = set(self.pipeline.open_events())
        if not events:
            return False
        if events <= self._primed:
            self.pipeline.refresh_prices(calendar=step.calendar)
        else:  # a new event: every exchange's history first, since the studies read the store alone and a security
            # whose exchange has not closed since the rule still needs its estimation window to stay pending
            self.pipeline.refresh_prices()
            self._primed |= events
        update = self.pipeline.update_studies()
        if update.follow_ups:
            stages = sorted({key.rsplit(":", 1)[-1].replace("_", " ") for key in update.follow_ups})
            self._header(step.at, f"{EXCHANGES.get(step.calendar, step.calendar)} close: {', '.join(stages)}")
        return bool(update.follow_ups)

    def _announce(self, step: Step, arrival: Any) -> None:
        where = "public inspection" if step.kind == "pi" else "Federal Register"
        verb = "filed" if step.kind == "pi" else "published"
        names = len(arrival.listing_actions)
        found = f"{names} entities named" if names else "no entity extracted yet"
        self._header(step.at, f"{where}: FR Doc {arrival.document_number} {verb}, {found}")

    def _header(self, moment: datetime, text: str) -> None:
        local = moment.astimezone(NEW_YORK)
        self.console.rule(f"[bold]{local:%a %Y-%m-%d %H:%M:%S} ET[/bold] · {text}", align="left")


def short_names(session: Session) -> dict[str, str]:
    """How traders call each listing: its first Latin-script alias in the universe (Hikvision, Ambarella …)."""
    from sqlalchemy import select

    from monitor.db.tables import SecurityAlias, SecurityRow

    names: dict[str, str] = {}
    for symbol, alias in session.execute(
        select(SecurityRow.symbol, SecurityAlias.alias)
        .join(SecurityAlias, SecurityAlias.security_id == SecurityRow.id)
        .order_by(SecurityAlias.id)
    ):
        if symbol not in names and alias.isascii() and alias != symbol:
            names[symbol] = alias
    return names


def story(event: EventRecord | None, names: dict[str, str] | None = None) -> list[StoryLine]:
    """The reaction of each studied security of the rule, as the stored studies tell it."""
    if event is None:
        return []
    lines: list[StoryLine] = []
    for study in event.studies:
        reaction = next((d for d in study.days if study.reaction_date and d.date == study.reaction_date), None)
        first_days = study.windows.get("[0,1]")
        whole = study.windows.get(event.main_label)
        lines.append(
            StoryLine(
                symbol=study.symbol,
                issuer=study.issuer,
                name=(names or {}).get(study.symbol, study.issuer),
                relation=study.relation,
                exchange=study.exchange_mic,
                status=study.status,
                day0=study.day0,
                halted=tuple(d.date for d in study.days if d.halted and d.rel_day >= 0),
                reaction_date=study.reaction_date,
                reaction_ar=reaction.ar if reaction else None,
                car_first_days=first_days.car if first_days else None,
                window=event.window,
                car_window=whole.car if whole else None,
                car_t=whole.t if whole else None,
                reason=study.reason,
            )
        )
    return lines


def halted_span(days: tuple[date, ...]) -> str:
    """``10-08, 10-09``: the sessions a security did not trade."""
    return ", ".join(f"{day:%m-%d}" for day in days)
