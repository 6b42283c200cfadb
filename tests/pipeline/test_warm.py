"""Warming the pipeline at start-up: the first filing's card must not pay for the match index, the name spotter's
automaton or the exchange calendars, and a warm-up racing the first arrival builds them once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import MatchingSettings
from monitor.db.tables import SecurityRow
from monitor.matching import Matcher
from monitor.models import FeedName
from monitor.pipeline import core
from tests.pipeline.test_core import TARGETS, Story, at


def test_a_warm_up_racing_the_first_arrival_builds_the_matcher_once(
    sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = Story(sessions, tmp_path, at("2019-10-09T12:00:00"))
    builds: list[str] = []
    real = core.build_matcher

    def slow_build(session: Session, settings: MatchingSettings | None = None) -> Matcher:
        builds.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for the second caller to arrive while the first still builds
        return real(session, settings)

    monkeypatch.setattr(core, "build_matcher", slow_build)
    results: list[Any] = []
    warm = threading.Thread(target=lambda: results.append(story.pipeline.warm()), name="warm")
    warm.start()
    time.sleep(0.05)
    outcomes = story.poll(FeedName.DOCUMENTS)  # the published rule arrives while the warm-up is still building
    warm.join(timeout=60)
    assert len(builds) == 1, builds
    [rule] = [o for o in outcomes if o.document_number == "2019-22210"]  # type: ignore[attr-defined]
    assert set(rule.confirmed) >= TARGETS

    [warmed] = results
    with sessions() as session:
        assert warmed.securities == session.scalar(select(func.count()).select_from(SecurityRow))
    # the seed universe lists in New York, Shanghai/Shenzhen, Hong Kong and Tokyo (6697.T)
    assert {"XNYS", "XSHG", "XHKG", "XTKS"} <= set(warmed.calendars)
    again = story.pipeline.warm()
    assert len(builds) == 1  # nothing changed in the universe: nothing rebuilt
    assert again.calendars == warmed.calendars
