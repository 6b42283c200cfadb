"""A document's pipeline step is durable work: stored but not finished means due, and due means finished later.

The October 2019 rule on saved Federal Register responses and real prices, on a simulated clock. The pipeline
writes through a real database that fails on cue (``tests.fakes.flaky_db``: the next commit with writes raises a
database error, as a server restart or failover makes it), so no project code is patched. Jobs go through the
daemon's ``JobRunner``, which turns a failed job into a logged outcome, as in ``monitor run``.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.leasing import LeaseKeeper
from jobs.runner import JobRunner, JobSpec
from jobs.tasks import POLL_JOBS, UPDATE_STUDIES
from monitor.db import leases
from monitor.db.tables import Document, Lease, ListingActionRow, MatchRow
from monitor.feeds import store
from monitor.models import FeedName
from tests.fakes.flaky_db import Faults, flaky_sessions
from tests.jobs.test_tasks import Rig, utc

Sessions = sessionmaker[Session]


class Daemon:
    """The rig's jobs run the daemon's way: through a ``JobRunner`` with leases, a failure logged, never raised."""

    def __init__(self, sessions: Sessions, tmp_path: Path) -> None:
        engine = sessions.kw["bind"]
        assert isinstance(engine, Engine)
        self.faults = Faults()
        self.sessions = sessions
        self.rig = Rig(sessions, tmp_path, pipeline_sessions=flaky_sessions(engine, self.faults))
        self.runner = JobRunner(LeaseKeeper(sessions, ttl=timedelta(seconds=60)), threading.Event())

    def poll(self, feed: FeedName) -> str:
        name = POLL_JOBS[feed]
        return self.runner.run(JobSpec(name, lambda: self.rig.tasks.poll(feed), lease=name))

    def sweep(self, *, failing: int = 0) -> str:
        """The periodic study job, which finishes due documents first (the sweep), after a price refresh; its
        first ``failing`` commits with writes fail."""
        self.rig.tasks.refresh_prices()
        self.faults.arm(failing)
        return self.runner.run(JobSpec(UPDATE_STUDIES, self.rig.tasks.update_studies, lease=UPDATE_STUDIES))

    def deliver(self) -> None:
        self.rig.tasks.deliver()

    def due(self) -> list[str]:
        with self.sessions() as session:
            return [document.document_number for document in store.due_documents(session)]

    def sent(self) -> Counter[str]:
        """Each alert's stage and group (``g:XNYS:day0``), counted over what the sink received."""
        keys = self.rig.sink.keys()
        return Counter(key.split(":", 2)[2] for key in keys if key.startswith("event:"))


def test_a_published_version_whose_pipeline_step_failed_is_finished_by_the_sweep(
    sessions: Sessions, tmp_path: Path
) -> None:
    """The filing's card went out; the published rule is stored, then its pipeline step fails (in the poll and in
    the poll's own catch-up, as does that of the other rule the poll brings). The sweep still finishes it: the
    reconcile reply goes out, once, and the published rule's matches are stored. (Before: the document had an
    event, so no catch-up looked at it again.)"""
    daemon = Daemon(sessions, tmp_path)
    assert daemon.poll(FeedName.PUBLIC_INSPECTION) == "ok"
    daemon.deliver()
    assert daemon.sent() == {"g:all:detected": 1, "g:all:entities": 1}
    daemon.rig.clock.set(utc("2019-10-09T12:00:00"))
    daemon.faults.arm(4)
    daemon.poll(FeedName.DOCUMENTS)
    assert daemon.faults.raised == 4
    assert set(daemon.due()) == {"2019-13245", "2019-22210"}
    daemon.deliver()
    assert "g:all:reconciled" not in daemon.sent()
    assert daemon.sweep() == "ok"
    assert daemon.due() == []
    daemon.deliver()
    daemon.sweep()
    daemon.poll(FeedName.DOCUMENTS)
    daemon.deliver()
    sent = daemon.sent()
    assert sent["g:all:reconciled"] == 1
    assert max(sent.values()) == 1
    with sessions() as session:
        published = session.scalars(
            select(func.count())
            .select_from(MatchRow)
            .join(ListingActionRow, ListingActionRow.id == MatchRow.listing_action_id)
            .join(Document, Document.id == ListingActionRow.document_id)
            .where(Document.document_number == "2019-22210", ListingActionRow.source == FeedName.DOCUMENTS.value)
        ).one()
    assert published > 0


def test_every_stage_of_a_rule_survives_a_failed_pipeline_step(sessions: Sessions, tmp_path: Path) -> None:
    """At each stage (the filing, its day-0 closes, the publication, day +1, day +5 and the window's close) the
    pipeline's first write fails, and at the publication every write of the poll and of the next sweep's first
    document. Every card and follow-up still goes out, once."""
    daemon = Daemon(sessions, tmp_path)
    clock = daemon.rig.clock

    daemon.faults.arm(1)  # the filing: the poll's pipeline step fails, its catch-up finishes it
    assert daemon.poll(FeedName.PUBLIC_INSPECTION) == "ok"
    assert daemon.faults.raised == 1
    daemon.deliver()
    assert daemon.sent() == {"g:all:detected": 1, "g:all:entities": 1}

    clock.set(utc("2019-10-08T21:00:00"))  # day 0 closed in Shanghai and New York
    daemon.sweep(failing=1)  # the study update's write fails: nothing of it is committed
    assert daemon.faults.raised == 2
    daemon.sweep()
    daemon.deliver()
    assert {"g:XSHG:day0", "g:XNYS:day0"} <= set(daemon.sent())

    clock.set(utc("2019-10-09T12:00:00"))  # the rule is published; Shanghai closed day +1
    daemon.faults.arm(4)  # both rules the poll brings, in the poll and in its catch-up
    daemon.poll(FeedName.DOCUMENTS)
    assert daemon.faults.raised == 6
    assert set(daemon.due()) == {"2019-13245", "2019-22210"}
    daemon.sweep(failing=1)  # fails once more (the sweep's first document); the next sweep finishes it
    assert daemon.faults.raised == 7
    daemon.sweep()
    daemon.poll(FeedName.DOCUMENTS)
    assert daemon.due() == []
    daemon.deliver()
    assert {"g:all:reconciled", "g:XSHG:day1"} <= set(daemon.sent())

    for when in ("2019-10-09T21:00:00", "2019-10-15T21:00:00", "2019-10-16T21:00:00"):
        clock.set(utc(when))
        before = daemon.faults.raised
        daemon.sweep(failing=1)
        assert daemon.faults.raised == before + 1
        daemon.sweep()
        daemon.deliver()

    sent = daemon.sent()
    assert sent == {
        "g:all:detected": 1,
        "g:all:entities": 1,
        "g:all:reconciled": 1,
        **{f"g:{exchange}:{stage}": 1 for exchange in ("XNYS", "XSHG") for stage in ("day0", "day1", "day5")},
        "g:XNYS:window_closed": 1,
        "g:XSHG:window_closed": 1,
    }
    assert daemon.due() == []


def test_a_document_another_replica_is_processing_is_left_to_it(sessions: Sessions, tmp_path: Path) -> None:
    """The document's lease decides who runs it: held elsewhere, this replica skips it and it stays due; once the
    lease is free (released, or expired after a crash), the next pass finishes it."""
    rig = Rig(sessions, tmp_path)
    keeper = LeaseKeeper(sessions, ttl=timedelta(seconds=60))
    rig.pipeline.exclusive = keeper.hold
    rig.poller.poll(FeedName.PUBLIC_INSPECTION)  # stored; its pipeline step has not run
    with sessions() as session:
        (due,) = store.due_documents(session)
    now = datetime.now(UTC)  # leases run on the wall clock
    other = leases.acquire(sessions, f"document:{due.id}", "replica-b:1:abcdef12", ttl=timedelta(minutes=5), now=now)
    assert other is not None
    caught = rig.pipeline.catch_up()
    assert (caught.processed, caught.failed) == ((), ())
    with sessions() as session:
        assert [d.document_number for d in store.due_documents(session)] == ["2019-22210"]
    leases.release(sessions, other)
    caught = rig.pipeline.catch_up()
    assert caught.processed == ("2019-22210",)
    assert len(caught.alerts) == 2
    with sessions() as session:
        assert store.due_documents(session) == []
        assert session.scalars(select(func.count()).select_from(Lease)).one() == 0


def test_a_change_stored_while_the_pipeline_runs_keeps_the_document_due(sessions: Sessions) -> None:
    """The pipeline clears only the revision it read: a newer change (its publication, a better extraction)
    committed meanwhile keeps the document due for the next pass."""
    now = utc("2019-10-07T20:20:00")
    with sessions.begin() as session:
        document = Document(
            document_number="2019-22210",
            source="pi",
            title="Addition of Certain Entities to the Entity List",
            first_seen_at=now,
            is_entity_list=True,
        )
        session.add(document)
        session.flush()
        document_id = document.id
        store.mark_pipeline_due(session, document_id, now)
    with sessions() as session:
        read = session.get(Document, document_id)
        assert read is not None
        assert (read.pipeline_revision, read.pipeline_due_since) == (1, now)
    with sessions.begin() as session:  # a second change before the pipeline ran keeps the first due time
        store.mark_pipeline_due(session, document_id, now + timedelta(hours=1))
    with sessions.begin() as session:
        assert not store.finish_pipeline(session, document_id, 1)  # the pipeline had read revision 1 only
    with sessions() as session:
        (due,) = store.due_documents(session)
        assert due.due_since == now
    with sessions.begin() as session:
        assert store.finish_pipeline(session, document_id, 2)
    with sessions() as session:
        read = session.get(Document, document_id)
        assert read is not None
        assert read.pipeline_due_since is None
