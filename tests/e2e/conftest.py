"""The end-to-end tests' session: the seeded data directory and price files its daemons share
(``harness.session_inputs``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import session_inputs


@pytest.fixture(scope="session", autouse=True)
def _session_inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Placed for the session and built on the first daemon's demand, so a run that starts none pays nothing."""
    session_inputs.place(tmp_path_factory.mktemp("session-inputs"))
    yield
    session_inputs.place(None)
