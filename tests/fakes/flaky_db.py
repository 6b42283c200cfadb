"""A database that fails on cue: real sessions whose next commit with writes raises a database error.

The fault sits at the seam the pipeline is built on (its ``sessionmaker``), so no project code is patched: the
pipeline runs unchanged against a real SQLite or PostgreSQL database, and when armed, the commit of a transaction
that wrote something fails the way a server restart or a failover makes it fail, and is rolled back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker


class Faults:
    """How many commits with writes are still to fail, and how many did."""

    def __init__(self) -> None:
        self.armed = 0
        self.raised = 0

    def arm(self, commits: int = 1) -> None:
        self.armed += commits

    def take(self) -> bool:
        if self.armed <= 0:
            return False
        self.armed -= 1
        self.raised += 1
        return True


class FlakySession(Session):
    """A real session; see ``flaky_sessions``."""


def flaky_sessions(engine: Engine, faults: Faults) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose commits of a transaction that wrote fail while ``faults`` is armed."""
    return sessionmaker(engine, expire_on_commit=False, class_=FlakySession, info={"faults": faults})


@event.listens_for(FlakySession, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@event.listens_for(FlakySession, "after_flush")
def _flushed(session: Session, context: Any) -> None:
    session.info["wrote"] = True


@event.listens_for(FlakySession, "before_commit")
def _commit(session: Session) -> None:
    wrote = session.info.pop("wrote", False)
    faults: Faults = session.info["faults"]
    if wrote and faults.take():
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
