"""The cross-event summary: CARs of many rules, grouped by relation, tested without pretending they are one event.

Within one event every security's CAR shares the announcement date, so their errors are cross-correlated (the
reason the per-event headline is Kolari–Pynnönen's BMP). Across events the dates differ and the errors are taken
as independent, except that events whose event windows overlap in calendar time are merged into one cluster:
their CARs share sessions. Pure functions over plain arrays, no I/O:

* ``cluster_bmp``: the BMP t over every (event, security) standardized CAR, with the KP correction generalised to
  several clusters. With cluster sizes n_c and mean residual correlations r̄_c (zero between clusters),
  Var(mean SCAR) = σ²·Σ n_c(1+(n_c−1)r̄_c)/N² and E[s²] = σ²(1−ρ̄), ρ̄ = Σ n_c(n_c−1)r̄_c / N(N−1); so
  t = mean / √(s²/(1−ρ̄) · Σ n_c(1+(n_c−1)r̄_c)/N²), N−1 df. For a single event it is exactly KP's t.
* ``portfolio_t``: one observation per cluster (its equally weighted CAAR), t = mean/(sd/√C) with C−1 df: the
  portfolio approach across dates, robust to any dependence inside a cluster.
* ``stouffer``: per-event statistics that are N(0,1) under H0 (Corrado rank Z; placebo p-values turned into
  signed z) combined as Σz/√C; events of one cluster enter with their mean z, which is conservative whatever
  their correlation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy import special

FloatArray = np.ndarray


@dataclass(frozen=True)
class Test:
    value: float | None
    p_value: float | None
    df: int | None = None


NO_TEST = Test(None, None)


@dataclass(frozen=True)
class EventSample:
    """One event's contribution to a (group, window) cell."""

    event_id: int
    cluster: int
    cars: tuple[float, ...]
    scars: tuple[float, ...]  # CAR / its standard deviation (the security's CAR t)
    rbar: float | None  # mean residual correlation of the event's group (stored with its tests)
    rank_z: float | None = None
    placebo_p: float | None = None


@dataclass(frozen=True)
class PooledCell:
    events: int
    clusters: int
    n: int
    mean_car: float | None  # over (event, security) pairs
    mean_caar: float | None  # over events, each its group's mean
    negative_share: float | None
    cluster_bmp: Test
    portfolio_t: Test
    rank_z: Test
    placebo: Test  # the combined placebo z and its p-value
    placebo_events: int


def _t_p(value: float, df: int) -> float:
    return float(2.0 * special.stdtr(df, -abs(value)))


def _normal_p(value: float) -> float:
    return float(special.erfc(abs(value) / math.sqrt(2.0)))


def clusters(spans: Mapping[int, tuple[date, date]]) -> dict[int, int]:
    """Cluster number per event: events whose [first, last] window dates overlap (transitively) share one."""
    out: dict[int, int] = {}
    current = -1
    end: date | None = None
    for event_id, (first, last) in sorted(spans.items(), key=lambda item: (item[1][0], item[0])):
        if end is None or first > end:
            current += 1
            end = last
        else:
            end = max(end, last)
        out[event_id] = current
    return out


def cluster_bmp(scars: FloatArray, labels: Sequence[int], rbar: Mapping[int, float | None]) -> Test:
    """KP-adjusted BMP t over pairs in several clusters (see the module docstring); None below two pairs."""
    x = np.asarray(scars, dtype=np.float64)
    n = len(x)
    if n < 2:
        return NO_TEST
    sizes: dict[int, int] = {}
    for label in labels:
        sizes[label] = sizes.get(label, 0) + 1
    pairs = sum(size * (size - 1) * (rbar.get(label) or 0.0) for label, size in sizes.items())
    spread = sum(size * (1.0 + (size - 1) * (rbar.get(label) or 0.0)) for label, size in sizes.items())
    rho = pairs / (n * (n - 1))
    s2 = float(np.var(x, ddof=1))
    if not (rho < 1 and spread > 0 and s2 > 0):
        return NO_TEST
    value = float(x.mean()) / math.sqrt(s2 / (1.0 - rho) * spread / (n * n))
    return Test(value, _t_p(value, n - 1), n - 1)


def portfolio_t(cluster_means: FloatArray) -> Test:
    """t of the mean of independent cluster CAARs (C−1 df); None below two clusters or with no spread."""
    x = np.asarray(cluster_means, dtype=np.float64)
    if len(x) < 2:
        return NO_TEST
    sd = float(np.std(x, ddof=1))
    if sd <= 0:
        return NO_TEST
    value = float(x.mean()) / (sd / math.sqrt(len(x)))
    return Test(value, _t_p(value, len(x) - 1), len(x) - 1)


def stouffer(z_by_cluster: Mapping[int, Sequence[float]]) -> Test:
    """Σ z̄_c / √C over clusters (z̄_c: the cluster's mean z), two-sided normal p."""
    means = [float(np.mean(values)) for values in z_by_cluster.values() if len(values)]
    if not means:
        return NO_TEST
    value = sum(means) / math.sqrt(len(means))
    return Test(value, _normal_p(value))


def signed_z(p_value: float, direction: float) -> float:
    """A two-sided p-value as a z with the sign of the effect (p = 1 gives 0)."""
    p = min(max(p_value, 1e-300), 1.0)
    return math.copysign(float(special.ndtri(1.0 - p / 2.0)), direction) if p < 1.0 else 0.0


def pool(samples: Sequence[EventSample]) -> PooledCell:
    """Every cross-event statistic for one (group, window) cell."""
    used = [s for s in samples if s.cars]
    if not used:
        return PooledCell(0, 0, 0, None, None, None, NO_TEST, NO_TEST, NO_TEST, NO_TEST, 0)
    cars = np.array([c for s in used for c in s.cars], dtype=np.float64)
    scars = np.array([z for s in used for z in s.scars], dtype=np.float64)
    labels = [s.cluster for s in used for _ in s.cars]
    by_cluster: dict[int, list[float]] = {}
    rbar_pairs: dict[int, list[tuple[int, float]]] = {}
    for sample in used:
        by_cluster.setdefault(sample.cluster, []).extend(sample.cars)
        if sample.rbar is not None and len(sample.cars) > 1:
            rbar_pairs.setdefault(sample.cluster, []).append((len(sample.cars), sample.rbar))
    rbar = {label: _pair_weighted(values) for label, values in rbar_pairs.items()}
    ranks: dict[int, list[float]] = {}
    placebos: dict[int, list[float]] = {}
    for sample in used:
        if sample.rank_z is not None:
            ranks.setdefault(sample.cluster, []).append(sample.rank_z)
        if sample.placebo_p is not None:
            direction = float(np.mean(sample.cars))
            placebos.setdefault(sample.cluster, []).append(signed_z(sample.placebo_p, direction))
    finite_scars = np.isfinite(scars)
    return PooledCell(
        events=len(used),
        clusters=len(by_cluster),
        n=len(cars),
        mean_car=float(cars.mean()),
        mean_caar=float(np.mean([np.mean(s.cars) for s in used])),
        negative_share=float((cars < 0).mean()),
        cluster_bmp=cluster_bmp(
            scars[finite_scars], [lab for lab, ok in zip(labels, finite_scars, strict=True) if ok], rbar
        ),
        portfolio_t=portfolio_t(np.array([np.mean(v) for v in by_cluster.values()])),
        rank_z=stouffer(ranks),
        placebo=stouffer(placebos),
        placebo_events=sum(len(v) for v in placebos.values()),
    )


def _pair_weighted(values: Sequence[tuple[int, float]]) -> float:
    """Mean correlation of a cluster's events, weighted by their number of pairs n(n−1)."""
    weights = [n * (n - 1) for n, _ in values]
    return sum(w * r for w, (_, r) in zip(weights, values, strict=True)) / sum(weights)
