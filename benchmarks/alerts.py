"""Alerts benchmark: rendering, charting, enqueueing, and delivering through a local Slack Web API server.

Run: ``python -m benchmarks.alerts``. Alerts are the October 2019 rule (``tests/fakes/alert_samples.py``: real
facts, illustrative prices); the "huge" rule is SYNTHETIC (400 entities, 150 securities). Delivery runs against
``tests/fakes/slack_server.FakeSlack`` on 127.0.0.1 with a fresh SQLite database, pacing off: it measures our
overhead per message, not Slack's one-message-per-second channel limit, which the sink enforces in production.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk.http_retry import FixedValueRetryIntervalCalculator

from alerts import blocks
from alerts.chart import render_chart
from alerts.delivery import DeliveryWorker
from alerts.sink import Outgoing
from alerts.slack import SlackSink
from benchmarks._table import Row, best_of, report
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.logs import configure_logging
from monitor.models import AlertStage, Relation
from monitor.outbox import EntityLine, MatchedSecurity, enqueue
from tests.fakes.alert_samples import detected, follow_up, make_event
from tests.fakes.slack_server import FakeSlack


def huge_rule() -> object:
    securities = tuple(
        MatchedSecurity(
            symbol=f"{600000 + i}.SS",
            issuer=f"Synthetic Issuer {i} Holdings",
            exchange_mic="XSHG",
            relation=Relation.SUPPLIER,
            score=0.9,
            reason="synthetic exposure " * 10,
            last_price=10.0,
            move=-0.05,
        )
        for i in range(150)
    )
    entities = tuple(EntityLine(name=f"Synthetic Research Institute No. {i}", country="China") for i in range(400))
    return detected(1).model_copy(update={"securities": securities, "entities": entities})


def per_call_ms(func: object, repeats: int = 200) -> float:
    assert callable(func)
    return best_of(5, lambda: [func() for _ in range(repeats)]) / repeats * 1000


def main() -> None:
    configure_logging("WARNING")
    rows: list[Row] = []
    card, huge, reply = detected(1), huge_rule(), follow_up(1, AlertStage.DAY5)
    ms = per_call_ms(lambda: blocks.render(card))
    rows.append(Row("render detected card (28 entities, 8 securities)", f"{ms:.2f} ms", "< 5 ms", ms < 5))
    ms = per_call_ms(lambda: blocks.render(huge), repeats=50)  # type: ignore[arg-type]
    rows.append(Row("render huge card (400 entities, 150 securities), cut to fit", f"{ms:.2f} ms", "< 20 ms", ms < 20))
    render_chart(reply)  # import and font cache warm-up
    ms = best_of(5, lambda: render_chart(reply)) * 1000
    rows.append(Row("AR/CAR chart PNG", f"{ms:.0f} ms", "< 500 ms", ms < 500))

    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as slack:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        settings = Settings(slack=slack.settings(), alerts={"charts": False, "batch_size": 500})
        now = datetime.now(UTC)
        events = 100
        start = time.perf_counter()
        for number in range(events):  # one transaction per rule, as the pipeline writes them
            with sessions.begin() as session:
                event = make_event(session, f"2099-{number:05d}")
                enqueue(session, detected(event), settings=settings, now=now)
                enqueue(session, follow_up(event, AlertStage.DAY0), settings=settings, now=now)
        rate = 2 * events / (time.perf_counter() - start)
        rows.append(Row("enqueue (SQLite, a transaction per rule)", f"{rate:.0f} alerts/s", ">= 200/s", rate >= 200))

        sink = SlackSink.from_settings(settings, interval=FixedValueRetryIntervalCalculator(0.01))
        worker = DeliveryWorker(sessions, {"slack": sink}, settings=settings, clock=SimulatedClock(now))
        start = time.perf_counter()
        sent = worker.run_once().sent
        elapsed = time.perf_counter() - start
        rate = sent / elapsed
        ok = sent == 2 * events and set(slack.dedup_keys().values()) == {1} and rate >= 20
        rows.append(Row("deliver to local Slack API, threads + card updates", f"{rate:.0f} alerts/s", ">= 20/s", ok))
        calls = len(slack.requests()) / sent
        rows.append(
            Row("Slack API calls per alert (card, or reply + card update)", f"{calls:.1f}", "<= 1.5", calls <= 1.5)
        )

        for number in range(1000):
            slack.post_foreign(f"channel chatter {number}")
        first = slack.top_level()[0]
        item = Outgoing(1, 1, first["metadata"]["event_payload"]["dedup_key"], "slack", card, 2, True, now)
        lookup = best_of(5, lambda: sink._find_message(slack.channel, item, None)) * 1000
        rows.append(
            Row("crash-recovery look-up past 1,000 newer messages", f"{lookup:.0f} ms", "< 500 ms", lookup < 500)
        )

        latencies = []
        for number in range(20):
            with sessions.begin() as session:
                event = make_event(session, f"2098-{number:05d}")
                enqueue(session, detected(event), settings=settings, now=now + timedelta(seconds=number))
            start = time.perf_counter()
            worker.clock = SimulatedClock(now + timedelta(seconds=number))
            worker.run_once()
            latencies.append((time.perf_counter() - start) * 1000)
        median = statistics.median(latencies)
        rows.append(Row("committed alert -> on Slack, one worker pass", f"{median:.0f} ms", "< 250 ms", median < 250))
        engine.dispose()
    report("Alerts", rows)


if __name__ == "__main__":
    main()
