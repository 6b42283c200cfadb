"""Many events in one batch give exactly what each event studied alone gives; results stay arrays until asked."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monitor.study import SecuritySeries, StudyParams, engine, run_event
from monitor.study.batch import LazySecurities
from monitor.study.book import Pairs, SeriesBook
from monitor.study.engine import chunk_pairs, run_events
from tests.study._synthetic import as_date, market

PARAMS = StudyParams()


def _halted(m, i: int, rels: list[int]) -> SecuritySeries:
    halted = np.zeros(len(m.sessions), dtype=bool)
    halted[[m.e + r for r in rels]] = True
    return SecuritySeries.from_closes(f"S{i:03d}", "IDX", m.day0, m.sessions, m.closes(i), m.benchmark_closes(), halted)


@pytest.fixture(scope="module")
def universe():
    m = market(n=40, days=700, e=650, seed=5, common=0.5)
    series = m.all_series()
    series[3] = _halted(m, 3, [-300 + 650 - m.e + 10, -40, 0, 1])  # halts in estimation and on day 0
    return m, series


def test_a_batch_equals_each_event_alone(universe, monkeypatch):
    m, series = universe
    monkeypatch.setattr(engine, "CHUNK_CELLS", 200 * 276)  # 200 pairs a chunk: events straddle several chunks
    rng = np.random.default_rng(1)
    events = [(int(row), sorted(rng.choice(40, size=int(rng.integers(3, 30)), replace=False).tolist()))
              for row in rng.choice(np.arange(300, 690), size=60)]  # fmt: skip
    assert sum(len(c) for _, c in events) > 2 * chunk_pairs(PARAMS)  # several chunks
    sizes = [len(c) for _, c in events]
    pairs = Pairs(
        np.repeat(np.arange(len(events)), sizes),
        np.concatenate([np.asarray(c, dtype=np.int64) for _, c in events]),
        np.repeat(m.sessions[[r for r, _ in events]].astype("datetime64[D]"), sizes),
    )
    batch = run_events(SeriesBook.of(series), pairs, PARAMS)
    for (row, cols), together in zip(events, batch, strict=True):
        alone = run_event([series[c].at(as_date(m.sessions[row])) for c in cols], PARAMS)
        _same(together.to_dict(), alone.to_dict())


def _same(a: object, b: object, path: str = "") -> None:
    """Equal, floats to 1e-13 relative (a sum over other columns' order may differ in the last bits)."""
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple), path
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-13, abs=1e-15), path
    else:
        assert a == b, path


def test_results_are_built_only_when_asked(universe):
    _, series = universe
    result = run_event(series[:5], PARAMS)
    assert isinstance(result.securities, LazySecurities)
    assert "built" not in repr(result.securities)
    assert result.securities.symbols == ("S000", "S001", "S002", "S003", "S004")
    assert "built" not in repr(result.securities)
    assert result.securities[1].symbol == "S001"
    assert "built" in repr(result.securities)


def test_an_event_without_pairs_in_a_batch_is_empty(universe):
    m, series = universe
    pairs = Pairs(np.array([0, 0, 2]), np.array([0, 1, 2]), np.repeat(np.datetime64(m.day0, "D"), 3))
    first, empty, last = run_events(SeriesBook.of(series), pairs, PARAMS)
    assert (first.aggregate.n, empty.aggregate.n, last.aggregate.n) == (2, 0, 1)
    assert list(empty.securities) == []
    assert last.aggregate.tests.n_too_small
    assert last.aggregate.tests.to_dict()["n_too_small"] is True


def test_estimation_exclusions_refit_without_those_sessions(universe):
    """Leak days dropped from estimation: α, β and σ² equal an OLS fit on the other 245 sessions."""
    m, _ = universe
    leak = [m.e - 100 + k for k in range(5)]
    result = run_event([m.series(0)], PARAMS.with_(exclude_dates=tuple(as_date(m.sessions[r]) for r in leak)))
    s = result.securities[0]
    rows = [r for r in range(m.e - 265, m.e - 15) if r not in leak]
    X = np.column_stack([np.ones(len(rows)), m.rm[rows]])
    theta, *_ = np.linalg.lstsq(X, m.R[rows, 0], rcond=None)
    resid = m.R[rows, 0] - X @ theta
    assert s.n_estimation == 245
    assert (s.alpha, s.beta) == pytest.approx(tuple(theta), rel=1e-9)
    assert s.sigma**2 == pytest.approx(resid @ resid / (245 - 2), rel=1e-9)
    # The same through a series' own exclusions (another event's window of the same security).
    other = m.series(0).excluding([m.sessions[r] for r in leak])
    assert run_event([other], PARAMS).securities[0].to_dict() == s.to_dict()


FAULTS_SCRIPT = """
import resource, sys
import numpy as np
from monitor.study import StudyParams, run_event
from monitor.study.book import Pairs, SeriesBook
from monitor.study.engine import run_events
from tests.study._synthetic import as_date, market


def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


m = market(n=200, days=700, e=650, seed=3)
series = m.all_series()
if sys.argv[1] == "batch":
    book = SeriesBook.of(series)
    rng = np.random.default_rng(2)
    rows = np.sort(rng.choice(np.arange(300, 690), size=400))
    security = np.concatenate([np.sort(rng.choice(200, size=40, replace=False)) for _ in rows])
    pairs = Pairs(np.repeat(np.arange(len(rows)), 40), security, np.repeat(m.sessions[rows], 40))
    before = faults()
    kept = run_events(book, pairs, StudyParams())
else:  # one event at a time, as the pipeline studies them; the first call sets the process up
    days = [as_date(day) for day in m.sessions[600:621]]
    run_event([s.at(days[0]) for s in series], StudyParams())
    before = faults()
    for day in days[1:]:  # results dropped: each holds its own book of the whole histories
        run_event([s.at(day) for s in series], StudyParams()).aggregate
print(faults() - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the page-fault churn is glibc malloc's trimming")
@pytest.mark.parametrize(
    ("mode", "bound"),
    [
        ("batch", 20_000),  # 16,000 pairs in 27 chunks keep ~8 MB of results: about 6,000 faults (161,190 before)
        ("events", 5_000),  # 20 events of 200 securities, one call each: under 100 (39,451 before: 2,000 a call)
    ],
)
def test_a_fresh_process_does_not_refault_the_engine_temporaries_every_chunk_or_call(mode, bound):
    """glibc returned a chunk's freed temporaries to the system and faulted them back in on the next chunk or call;
    now the pages stay mapped and only the kept results fault in."""
    done = subprocess.run([sys.executable, "-c", FAULTS_SCRIPT, mode], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    faults = int(done.stdout.split()[-1])
    assert faults < bound, faults
