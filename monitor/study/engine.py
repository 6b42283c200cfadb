"""The event study: every (event, security) pair estimated, cumulated and tested in vectorised passes.

``run_event(series, params)`` studies one event; ``run_events(book, pairs, params)`` studies many at once (a
backfill's hundreds of rules): pairs are gathered from a ``SeriesBook`` in one fancy-indexing pass per chunk of a
few hundred pairs, each chunk fits the normal-return model over ``[τ1−gap−L1, τ1−gap−1]`` for all its pairs,
measures the event window and the standard sub-windows, and tests every event's cross-section (§1.5) with
segmented reductions. There is no Python loop over pairs; results stay arrays until a caller asks for objects.
No I/O: the pipeline (``monitor.pipeline.studies``) builds the inputs and stores the results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.models import DayStatus, StudyStatus
from monitor.study.aggregate import daily_aar, dependence, window_tests
from monitor.study.batch import EventStats, Kept, LazySecurities
from monitor.study.book import Pairs, SeriesBook, gather
from monitor.study.inputs import BoolArray, EventPanel, IntArray, SecuritySeries
from monitor.study.normal import fit
from monitor.study.params import StudyParams, window_label
from monitor.study.placebo import placebo_test
from monitor.study.results import NO_STATISTIC, AarDay, Aggregate, EventResult, Placebo, WindowTests
from monitor.study.status import CODE, FIT_OK, decide, fit_problems
from monitor.study.windows import EventRows, WindowArrays, measure_all

# Cells (panel rows × pairs) gathered at once: 600 pairs of the default 276 rows. A chunk costs ~1 ms of numpy calls
# whatever its size, so bigger chunks amortise it (100,000 pairs: 1.83 s CPU at 200 pairs a chunk, 1.69 s at 400,
# 1.57 s at 800); smaller ones bound the temporaries (~150 bytes a cell: 63 MB peak with every result kept at 400
# pairs, 71 MB at 600, 80 MB at 800). Counting cells keeps a placebo run's deep panels to the same memory.
CHUNK_CELLS = 165_600
SCRATCH_ARRAYS = 16  # a chunk's (rows × pairs) float temporaries alive at its peak (measured: ~17 MB at 276 × 400)
MALLOC_DYNAMIC_MAX = 30 << 20  # below glibc's 32 MB cap on its dynamic mmap threshold
SUSPECT = DayStatus.code(DayStatus.SUSPECT)
_USABLE = np.array([CODE[StudyStatus.COMPLETE], CODE[StudyStatus.PARTIAL], CODE[StudyStatus.HALTED]], dtype=np.int8)


def run_event(series: Sequence[SecuritySeries], params: StudyParams) -> EventResult:
    """Study one event for all of its securities (each with its own day 0, calendar and benchmark)."""
    count = len(series)
    day0 = np.array([s.day0 for s in series], dtype="datetime64[D]")  # None reads as NaT
    pairs = Pairs(np.zeros(count, dtype=np.int64), np.arange(count, dtype=np.int64), day0)
    return run_events(SeriesBook.of(series, params.exclude_dates), pairs, params, events=1)[0]


def run_events(book: SeriesBook, pairs: Pairs, params: StudyParams, *, events: int | None = None) -> list[EventResult]:
    """One ``EventResult`` per event index ``0..events-1`` (default: the largest index in ``pairs`` + 1); an event
    with no pairs gets an empty result."""
    total = int(pairs.event.max()) + 1 if len(pairs) else 0
    events = total if events is None else events
    out: list[EventResult | None] = [None] * events
    cuts = np.flatnonzero(np.diff(pairs.event)) + 1 if len(pairs) else np.zeros(0, dtype=np.int64)
    bounds = np.concatenate(([0], cuts, [len(pairs)])).astype(np.int64)
    per_chunk = chunk_pairs(params)
    if len(pairs):
        _keep_scratch_mapped(params, min(len(pairs), per_chunk))
    begin = 0
    while len(pairs) and begin < len(bounds) - 1:  # one loop step per chunk of whole events
        end = int(np.searchsorted(bounds, bounds[begin] + per_chunk, side="right")) - 1
        end = max(end, begin + 1)
        rows = slice(int(bounds[begin]), int(bounds[end]))
        chunk = pairs.take(rows)
        ids = chunk.event[np.concatenate(([0], np.flatnonzero(np.diff(chunk.event)) + 1))].tolist()
        for index, result in zip(ids, _study(book, chunk, params), strict=True):
            out[index] = result
        begin = end
    return [result if result is not None else _empty(params) for result in out]


def _keep_scratch_mapped(params: StudyParams, pairs: int) -> None:
    """Let the allocator keep one chunk's temporaries mapped for the next chunk (or the next call: a pipeline
    studies one event at a time) instead of returning them.

    glibc's malloc hands a freed heap top back to the system once it exceeds twice its dynamic mmap threshold
    (128 KB at start). A chunk's temporaries (~14 MB at 400 pairs) are freed at its end, so a fresh process
    returned and re-faulted them on every chunk: 850,000 page faults and 1.6 s of system time at 100,000 pairs,
    about 40% of the batch. Freeing one untouched block above the threshold raises it (and the trim threshold to
    twice the block), as any numpy program freeing a large array does; the block is never written, so it costs
    two system calls and no memory. Other allocators ignore it.
    """
    size = min(SCRATCH_ARRAYS * _rows(params) * pairs * 8, MALLOC_DYNAMIC_MAX)
    np.empty(size, dtype=np.uint8)  # allocated and freed at once


def _rows(params: StudyParams) -> int:
    """Panel rows of a pair: placebo lookback, estimation, gap and event window (a halt's extension aside)."""
    lookback = params.placebo_lookback if params.placebo_draws else 0
    return lookback + params.estimation + params.gap + params.window[1] - params.window[0] + 1


def chunk_pairs(params: StudyParams) -> int:
    """Pairs studied together (whole events are added until a chunk reaches this many)."""
    return max(CHUNK_CELLS // _rows(params), 1)


def _empty(params: StudyParams) -> EventResult:
    """An event with nothing to study: n = 0 everywhere."""
    first, last = params.window

    def nothing(window: tuple[int, int]) -> WindowTests:
        return WindowTests(window=window, n=0, caar=None, sessions=None, n_too_small=True)

    placebo = Placebo(None, 0, note="no security has a CAR to compare") if params.placebo_draws else None
    aggregate = Aggregate(
        n=0,
        caar=None,
        aar=tuple(AarDay(rel_day=rel, aar=None, n=0, t=None, bmp_t=None) for rel in range(first, last + 1)),
        tests=nothing(params.window),
        rank_z_day0=NO_STATISTIC,
        sub_windows={window_label(w): nothing(w) for w in params.windows_in_range},
        placebo=placebo,
        include_partial=params.include_partial,
    )
    return EventResult(params, (), given=aggregate)


def _study(book: SeriesBook, pairs: Pairs, params: StudyParams) -> list[EventResult]:
    first, last = params.window
    est_first, est_last = params.estimation_range
    lookback = params.placebo_lookback if params.placebo_draws else 0
    panel = gather(book, pairs, est_first - lookback, last, extend=params.max_halt_extension)
    est = slice(panel.row(est_first), panel.row(est_last) + 1)
    regressor = panel.regressor(params.model)
    model = fit(params.model, panel.ret[est], regressor[est], panel.span[est], panel.estimation_ok[est])
    evt = slice(panel.row(first), None)
    rows = EventRows.build(
        model, panel.rel[evt], panel.valid[evt], panel.present[evt], panel.ret[evt], panel.bench[evt],
        regressor[evt], panel.span[evt],
    )  # fmt: skip
    windows = [params.window, *params.windows_in_range]
    measured = measure_all(rows, model, windows)
    main = measured[0]
    day_status = panel.status[evt]
    fit_code = fit_problems(model.n, model.s2, model.smm, params.model == "market", params.min_estimation)
    suspect = ((day_status == SUSPECT) & main.mask).any(axis=0)
    status = _statuses(panel, rows, main, fit_code, suspect, day_status, last)
    eligible = np.isin(status, _USABLE) & (fit_code == FIT_OK) & (panel.problem_code == 0) & ~suspect
    covered = np.stack([a.has if params.include_partial else a.complete for a in measured])
    used = eligible[None, :] & covered & np.stack([a.has for a in measured])

    starts = np.concatenate(([0], np.flatnonzero(np.diff(pairs.event)) + 1)).astype(np.int64)
    counts = np.diff(np.append(starts, len(pairs))).astype(np.int64)
    stats = _event_stats(panel, model, rows, measured, used, params, est, starts, counts)
    kept = _keep(book, panel, rows, model, measured, fit_code, status, first)
    return [
        EventResult(params, LazySecurities(kept, slice(int(s), int(s + c)), params), stats, e)
        for e, (s, c) in enumerate(zip(starts.tolist(), counts.tolist(), strict=True))
    ]


def _statuses(
    panel: EventPanel,
    rows: EventRows,
    main: WindowArrays,
    fit_code: np.ndarray,
    suspect: BoolArray,
    day_status: np.ndarray,
    last: int,
) -> np.ndarray:
    present = rows.present
    latest_row = np.where(present.any(axis=0), present.shape[0] - 1 - np.argmax(present[::-1], axis=0), 0)
    latest = day_status[latest_row, np.arange(panel.n)]
    # The window's last session lies at most ~1.4 calendar days per session (plus holidays) after day 0.
    day0 = np.where(np.isnat(panel.day0), 0, panel.day0.astype("datetime64[D]").view(np.int64))
    bound: IntArray = day0 + int(last * 1.5) + 14
    return decide(panel.problem_code, fit_code, main.has, main.complete, suspect, latest, panel.delisted_on, bound)


def _event_stats(
    panel: EventPanel,
    model: object,
    rows: EventRows,
    measured: list[WindowArrays],
    used: BoolArray,
    params: StudyParams,
    est: slice,
    starts: IntArray,
    counts: IntArray,
) -> EventStats:
    from monitor.study.normal import Fit

    assert isinstance(model, Fit)
    first, last = params.window
    main = measured[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = model.residuals / np.sqrt(panel.span[est])
        scores = np.where(main.mask, rows.ar / np.sqrt(rows.span), np.nan)
    windows = tuple(a.window for a in measured)
    car = np.stack([a.car for a in measured])
    variance = np.stack([a.variance for a in measured])
    sessions = np.stack([a.sessions for a in measured])
    dep = dependence(scaled, scores, model.residuals, used[0], panel.dates[est], starts, counts)
    rank_rows = [slice(rows.row(a.window[0]), rows.row(a.window[1]) + 1) for a in measured]
    tests = window_tests(car, variance, sessions, model.df, used, dep, rank_rows, rows.row(0), starts)
    daily = daily_aar(rows.ar, rows.ar_variance, main.mask, used[0], rows.row(last), starts)
    placebos: list[Placebo | None] = [None] * len(starts)
    if params.placebo_draws and panel.n:
        for e, (s, c) in enumerate(zip(starts.tolist(), counts.tolist(), strict=True)):
            columns = slice(s, s + c)
            caar = float(tests.caar[0, e])
            placebos[e] = placebo_test(
                panel.columns(columns), params, used[0][columns], caar if np.isfinite(caar) else None
            )
    return EventStats(
        windows=windows,
        starts=starts,
        counts=counts,
        tests=tests,
        daily=daily,
        day_rel=np.arange(first, last + 1, dtype=np.int64),
        rbar=dep.rbar,
        portfolio_df=dep.portfolio_df,
        placebos=tuple(placebos),
    )


def _keep(
    book: SeriesBook,
    panel: EventPanel,
    rows: EventRows,
    model: object,
    measured: list[WindowArrays],
    fit_code: np.ndarray,
    status: np.ndarray,
    first: int,
) -> Kept:
    """The chunk's results in compact dtypes; the estimation rows and the (W, T, N) masks are dropped."""
    from monitor.study.normal import Fit

    assert isinstance(model, Fit)
    origin = book.offsets[panel.security] + panel.position + first
    return Kept(
        book=book,
        security=panel.security,
        day0=panel.day0,
        origin=origin,
        problem=panel.problem_code,
        rel=rows.rel,
        ar=rows.ar,
        ar_variance=rows.ar_variance,
        alpha=model.alpha,
        beta=model.beta,
        s2=model.s2,
        n_estimation=model.n.astype(np.int32),
        df=model.df.astype(np.int32),
        fit_problem=fit_code,
        status=status,
        windows=tuple(a.window for a in measured),
        car=np.stack([a.car for a in measured]),
        variance=np.stack([a.variance for a in measured]),
        bhar=np.stack([a.bhar for a in measured]),
        first=np.stack([np.clip(a.first, -32768, 32767) for a in measured]).astype(np.int16),
        last_row=np.stack([a.last_row for a in measured]).astype(np.int16),
        has=np.stack([a.has for a in measured]),
        complete=np.stack([a.complete for a in measured]),
    )
