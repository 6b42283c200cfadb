"""The end-to-end tests' session: one seeded data directory (``harness.seeded_template``) their daemons start from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import seeded_template


@pytest.fixture(scope="session", autouse=True)
def _seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Placed for the session and built on the first daemon's demand, so a run that starts none pays nothing."""
    seeded_template.place(tmp_path_factory.mktemp("seeded"))
    yield
    seeded_template.place(None)
