"""The report's CSV: one row per (event, security), fractions at full precision, empty where there is no value."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from monitor.report.data import EventRecord, StudyRecord
from monitor.report.summary import report_windows
from monitor.safe_text import csv_cell

FIXED = (
    "event_id", "document_number", "title", "announced_at", "announced_source", "symbol", "issuer", "exchange_mic",
    "relation", "benchmark", "status", "reason", "day0", "day0_halted", "reaction_date", "through_date",
    "flagged_days", "ar_day0", "ar_day0_t", "reaction_ar", "reaction_ar_t",
)  # fmt: skip
TRAILING = ("bhar", "alpha", "beta", "sigma", "n_estimation")


def columns(windows: Sequence[str]) -> list[str]:
    per_window = [f"{kind}_{label}" for label in windows for kind in ("car", "t", "p")]
    return [*FIXED, *per_window, *TRAILING]


def _true_false(value: bool) -> str:
    return "true" if value else "false"


def _empty(value: None) -> str:
    return ""


# Exact types first (a report writes hundreds of thousands of cells); anything else goes through ``_cell``'s checks.
_PLAIN: dict[type, Any] = {float: repr, type(None): _empty, bool: _true_false, int: str}


def _cell(value: Any) -> str:
    plain = _PLAIN.get(type(value))
    if plain is not None:
        out: str = plain(value)
        return out
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return csv_cell(str(value))  # feed text (titles, issuers, reasons): never a spreadsheet formula


def study_row(event: EventRecord, study: StudyRecord, windows: Sequence[str]) -> dict[str, str]:
    day0 = study.day(0)
    reaction = next((d for d in study.days if study.reaction_date and d.date == study.reaction_date), None)
    values: dict[str, Any] = {
        "event_id": event.event_id,
        "document_number": event.document_number,
        "title": event.title,
        "announced_at": event.announced_at,
        "announced_source": event.announced_source,
        "symbol": study.symbol,
        "issuer": study.issuer,
        "exchange_mic": study.exchange_mic,
        "relation": study.relation,
        "benchmark": study.benchmark,
        "status": study.status,
        "reason": study.reason,
        "day0": study.day0,
        "day0_halted": study.day0_halted,
        "reaction_date": study.reaction_date,
        "through_date": study.through_date,
        "flagged_days": study.flagged_days,  # "day +1 halted; day +2 suspect": per-day statuses, as stored
        "ar_day0": day0.ar if day0 else None,
        "ar_day0_t": day0.ar_t if day0 else None,
        "reaction_ar": reaction.ar if reaction else None,
        "reaction_ar_t": reaction.ar_t if reaction else None,
        "bhar": study.bhar,
        "alpha": study.alpha,
        "beta": study.beta,
        "sigma": study.sigma,
        "n_estimation": study.n_estimation,
    }
    for label in windows:
        window = study.windows.get(label)
        values[f"car_{label}"] = window.car if window else None
        values[f"t_{label}"] = window.t if window else None
        values[f"p_{label}"] = window.p_value if window else None
    return {key: _cell(value) for key, value in values.items()}


def write_csv(path: Path, events: Sequence[EventRecord]) -> int:
    """Write every (event, security) row; returns the number of rows."""
    windows = report_windows(events)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(windows))
        writer.writeheader()
        for event in events:
            for study in event.studies:
                writer.writerow(study_row(event, study, windows))
                count += 1
    return count
