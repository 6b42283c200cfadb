from __future__ import annotations

import pytest

from monitor.config import Settings
from monitor.errors import InputError
from monitor.study import StudyParams


def test_defaults_follow_the_methods_note():
    p = StudyParams()
    assert p.estimation_range == (-265, -16)
    assert p.length == 11
    assert p.ddof == 2
    assert p.windows_in_range == ((0, 0), (0, 1), (-1, 1), (0, 3), (0, 5))


def test_from_settings_with_overrides():
    settings = Settings(study={"model": "constant-mean", "estimation": 200, "placebo_draws": 100})
    p = StudyParams.from_settings(settings.study, gap=5, window=(-1, 3), model=None)
    assert (p.model, p.estimation, p.gap, p.window, p.placebo_draws) == ("constant-mean", 200, 5, (-1, 3), 100)
    assert p.placebo_seed == settings.study.placebo_seed
    assert p.placebo_lookback == 500
    short = StudyParams.from_settings(settings.study, estimation=90, min_estimation=80)
    assert (short.estimation, short.min_estimation) == (90, 80)


@pytest.mark.parametrize("estimation", [5, 90])
def test_an_estimation_window_below_the_minimum_is_refused_not_shortened(estimation):
    """The audit ran --estimation 5 and got a study labelled complete; a window that cannot hold the configured
    minimum of valid returns is now refused."""
    with pytest.raises(InputError, match=rf"estimation window of {estimation} sessions cannot hold the minimum of 120"):
        StudyParams.from_settings(Settings().study, estimation=estimation)
    with pytest.raises(InputError, match="min_estimation 5 is below 30"):
        StudyParams.from_settings(Settings().study, estimation=5, min_estimation=5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window": (1, 5)}, r"event window \[1,5\] must contain day 0"),
        ({"model": "fama-french"}, "model 'fama-french' is not one of market, market-adjusted, constant-mean"),
        ({"gap": -1}, "gap must not be negative"),
        ({"min_estimation": 300}, "an estimation window of 250 sessions cannot hold the minimum of 300"),
        ({"min_securities": 1}, "min_securities must be at least 2"),
        ({"sub_windows": ((2, 1),)}, r"sub-window \[2,1\] ends before it starts"),
    ],
)
def test_bad_parameters_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        StudyParams(**changes)
