"""The report's "Methods and parameters" section: what was computed and with which settings, in plain words.

The parameters are the ones stored with each event's statistics (the settings in force when it was studied), so a
report of events studied under different settings says so instead of quoting today's configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from monitor.study.params import STANDARD_SUB_WINDOWS, window_label

PARAMETER_NAMES = (
    ("model", "normal-return model"),
    ("estimation", "estimation window L1 (sessions)"),
    ("gap", "gap before the event window (sessions)"),
    ("window", "event window (sessions from day 0)"),
    ("min_estimation", "fewest estimation returns for a usable security"),
    ("placebo_draws", "placebo dates per event"),
    ("placebo_seed", "placebo seed"),
)

METHODS = [
    "<b>Event time and day 0.</b> Each rule is dated by the earliest trustworthy signal: an announcement override "
    "(a press release before the filing), else its public-inspection filing time, else our first sighting of the "
    "filing, else the Federal Register publication (06:00 New York time). For each security, day 0 is the first "
    "session of its own exchange whose close is at or after that moment, so a rule filed after the US close has "
    "the next session as day 0 in New York and in Asia alike.",
    "<b>Returns and halts.</b> Daily adjusted closes. A session is <i>halted</i> only when the security's exchange "
    "expected a session, its market traded, and the security did not (no bar, or zero volume): never a zero "
    "return. A zero, negative or missing close, or a lone spike, is a <i>bad price</i>, and a session the "
    "security traded but its benchmark has no bar is a <i>benchmark gap</i>; across all three the return is "
    "trade-to-trade, its benchmark compounded over the same sessions and its variance scaled by the number of "
    "sessions k it spans. A return beyond the exchange's daily limit (A-shares ±10%, ±20% on ChiNext and STAR) or "
    "the configured bound elsewhere is <i>suspect</i>: kept out of estimation, shown, and a security with one in "
    "its event window is reported as bad_price and kept out of the tests.",
    "<b>Closures (methods note §1.7).</b> A market-wide closure (a holiday, Golden Week) is not a session: a "
    "return across it is one session's return, and k counts only the sessions the security itself missed. "
    "Calendars come from exchange-calendars; past its data the mainland calendar is provisional (the holidays "
    "package's exchange calendar, corrected by the index's bars: a day with an index bar was a session, a weekday "
    "without one, once later bars exist, was not) and flagged so wherever it is used.",
    "<b>Normal returns.</b> The model named below, fitted per security over the estimation window that ends the "
    "gap before the event window, against the security's local benchmark (US: S&amp;P 500; mainland China: CSI "
    "300; Hong Kong: Hang Seng; or the universe's own choice per listing). Estimation leaves out suspect returns, "
    "the configured leak days (<code>--exclude-dates</code>) and the event windows of the same security's earlier "
    "events (a backfill holds many), so an earlier rule's reaction neither inflates σ nor bends β.",
    "<b>Abnormal returns.</b> AR = return − predicted return; CAR over a window with its exact variance "
    "(prediction error of the estimated parameters included); t = CAR / √Var(CAR) with the estimation degrees of "
    "freedom. Standard windows: " + ", ".join(window_label(w) for w in STANDARD_SUB_WINDOWS) + " and the event "
    "window.",
    "<b>No look-ahead.</b> A backfilled event was studied with the clock at the close of its event window on every "
    "exchange it touches: bars after that moment were hidden from it, as they were from the daemon at the time.",
    "<b>Statuses and what enters the tests.</b> complete (every return the window needs is in); partial (the "
    "window is not over); halted (waiting on a halt to end); bad_price; benchmark_gap; delisted (no bars after a "
    "date before the window ends); listed_later (listed after day 0); pending; insufficient_data. Only complete "
    "windows enter an aggregate unless partial windows were asked for; each aggregate states its n, and one over "
    "fewer securities than the configured minimum prints <i>n too small</i> instead of its tests. Daily AARs "
    "place a multi-session return on the session it ends (one ending after the window on its last day) and are "
    "each day's share of the CAAR, so they add up to it.",
    "<b>Calendar-date alignment.</b> Cross-sectional dependence is a matter of calendar time, so r̄, the portfolio "
    "standard deviation and the rank test's scale pair estimation residuals by calendar date, never by their "
    "position relative to each exchange's own day 0 (a New York and a Shenzhen stock's event-time rows can be "
    "two weeks apart after Golden Week); CARs and AARs are in event time.",
    "<b>Tests within an event.</b> All of an event's securities share its date, so their abnormal returns are "
    "cross-correlated; the headline statistics allow for that: Kolari–Pynnönen's adjusted BMP t (the BMP "
    "standardized-CAR t scaled by √((1−r̄)/(1+(N−1)r̄)), r̄ the mean pairwise correlation of estimation-window "
    "residuals), the Brown–Warner portfolio t (crude dependence adjustment: the equally weighted portfolio's "
    "estimation-window residual standard deviation), the Corrado rank test (Campbell–Wasley multi-day form) and "
    "a placebo p-value (the same securities re-studied on random earlier event-free dates: the share of placebo "
    "CAARs at least as extreme).",
    "<b>Across events.</b> Pooling CARs of different dates is a different problem from one shared date. Here CARs "
    "within an event are treated as correlated (with that event's r̄), CARs of different events as independent, "
    "except that events whose windows overlap in calendar time are merged into one cluster (their r̄ averaged by "
    "pairs). <i>Cluster-adjusted BMP t</i>: the BMP t over every (event, security) standardized CAR with the KP "
    "correction generalised to several clusters, Var(mean) ∝ Σ n<sub>c</sub>(1+(n<sub>c</sub>−1)r̄<sub>c</sub>) "
    "and the sample variance corrected by (1−ρ̄), ρ̄ the mean correlation over all pairs (N−1 df; for one event it "
    "is exactly KP's t). <i>Event-portfolio t</i>: each cluster's equally weighted CAAR is one observation "
    "(C−1 df), robust to any dependence inside an event. <i>Rank Z</i> and <i>placebo z</i>: each event's "
    "statistic (its placebo p-value as a z signed like its CAAR) combined by Stouffer's method, Σz/√C, events of "
    "one cluster entering with their mean z (conservative). Mean CAR weights every event-security pair equally; "
    "mean event CAAR weights every event equally.",
]


def _parameter_rows(parameters: Sequence[Mapping[str, Any]]) -> str:
    distinct: list[Mapping[str, Any]] = []
    for values in parameters:
        trimmed = {key: values.get(key) for key, _ in PARAMETER_NAMES}
        if trimmed not in distinct:
            distinct.append(trimmed)
    if not distinct:
        return "<p class='note'>No stored statistics carry their parameters.</p>"
    head = "".join(f"<th>{'set ' + str(i + 1) if len(distinct) > 1 else 'value'}</th>" for i in range(len(distinct)))
    rows = []
    for key, label in PARAMETER_NAMES:
        cells = "".join(f"<td>{escape(_show(values.get(key)))}</td>" for values in distinct)
        rows.append(f"<tr><td>{escape(label)}</td>{cells}</tr>")
    note = ""
    if len(distinct) > 1:
        note = "<p class='note'>The events were studied under different parameters; each column is one set.</p>"
    return f"<table><thead><tr><th>parameter</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return window_label((int(value[0]), int(value[1]))) if len(value) == 2 else str(value)
    return "—" if value is None else str(value)


def methods_html(parameters: Sequence[Mapping[str, Any]]) -> str:
    items = "".join(f"<li>{text}</li>" for text in METHODS)
    return (
        f'<section id="methods"><h2>Methods and parameters</h2>{_parameter_rows(parameters)}<ul>{items}</ul></section>'
    )
