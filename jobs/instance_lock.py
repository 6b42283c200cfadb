"""One daemon per SQLite file: an exclusive ``flock`` on a lock file beside the database, held for the process.

SQLite is the single-machine setup; two daemons on one file would both poll, both fight over the write lock and
gain nothing. (Replicas are a PostgreSQL setup, where leases share the work.) The operating system drops the lock
when the process dies, however it dies, so a crash never leaves a stale lock behind. The file holds the holder's
PID so the refusal can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from monitor.errors import DatabaseInUse, StorageError


class InstanceLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    @classmethod
    def for_database(cls, url: str) -> InstanceLock | None:
        """The lock for a SQLite file URL; None for PostgreSQL and in-memory databases."""
        parsed = make_url(url)
        database = parsed.database
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        if database.startswith("file:"):
            database = database.removeprefix("file:").split("?", 1)[0]
        path = Path(database).expanduser().resolve()
        return cls(path.with_name(path.name + ".run.lock"))

    def acquire(self) -> InstanceLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held open for the process lifetime)
        except OSError as exc:  # a read-only data directory: the daemon could not write its database either
            raise StorageError(f"cannot create the instance lock {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            database = self.path.name.removesuffix(".run.lock")
            raise DatabaseInUse(
                f"another `monitor run` (pid {holder}) is using the SQLite database {self.path.parent / database}; "
                "stop it first (SQLite runs one daemon per file; run replicas on PostgreSQL)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None
