"""One daemon per SQLite file; nothing to lock on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.instance_lock import InstanceLock
from monitor.errors import DatabaseInUse

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

REPO = Path(__file__).resolve().parents[2]


def test_lock_path_sits_beside_the_database(tmp_path: Path) -> None:
    lock = InstanceLock.for_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    assert lock is not None
    assert lock.path == tmp_path / "monitor.db.run.lock"
    assert InstanceLock.for_database("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None
    assert InstanceLock.for_database("sqlite://") is None
    assert InstanceLock.for_database("sqlite:///:memory:") is None


def test_a_second_instance_is_refused_naming_the_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    first = InstanceLock.for_database(url)
    second = InstanceLock.for_database(url)
    assert first is not None
    assert second is not None
    first.acquire()
    with pytest.raises(DatabaseInUse, match=rf"pid {os.getpid()}\) is using the SQLite database .*monitor.db"):
        second.acquire()
    assert not second.held
    first.release()
    second.acquire()
    assert second.held
    second.release()


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    """A killed daemon leaves no stale lock: the kernel drops a flock with its holder."""
    path = tmp_path / "monitor.db.run.lock"
    code = (
        "import os, signal, sys; from pathlib import Path; from jobs.instance_lock import InstanceLock; "
        f"InstanceLock(Path({str(path)!r})).acquire(); print('held', flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == -9
    assert result.stdout.strip() == "held"
    lock = InstanceLock(path).acquire()
    assert lock.held
    lock.release()
