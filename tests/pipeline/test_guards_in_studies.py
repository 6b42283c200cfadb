"""The audit's broken price files, studied end to end: a spike, an unadjusted split, a duplicate date.

Inputs are the real AMBA, ^GSPC and NVDA files with one defect each, written as a broken vendor file has it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from monitor.errors import InputError
from monitor.pipeline.bars import SourceBars
from monitor.pipeline.studies import EventTime, Subject, run
from monitor.prices.calendars import shared_calendars
from monitor.prices.sources import CsvDirectorySource, StaticSource
from monitor.study import StudyParams
from tests.conftest import SHARED_DATA

REAL = CsvDirectorySource(SHARED_DATA / "prices")
OCTOBER = EventTime.parse("2019-10-07T20:30:00Z")


def _study(frames: dict[str, pd.DataFrame], symbol: str = "AMBA"):
    bars = SourceBars(StaticSource({"^GSPC": REAL.history("^GSPC"), **frames}))
    return run([Subject(symbol)], OCTOBER, StudyParams(), bars, shared_calendars()).result.securities[0]


def test_a_hundredfold_spike_no_longer_wrecks_the_fit() -> None:
    """Before: β −26 and CAR −433% from one close ×100 in the estimation window."""
    clean = _study({"AMBA": REAL.history("AMBA")})
    spiked = REAL.history("AMBA").copy()
    spiked.loc["2019-06-14", ["close", "adj_close"]] *= 100
    s = _study({"AMBA": spiked})
    assert s.status == "complete"
    assert s.beta == pytest.approx(clean.beta, abs=0.05)
    assert s.car == pytest.approx(clean.car, abs=0.01)


def test_an_unadjusted_split_in_the_window_is_bad_price_not_a_crash() -> None:
    """Before: AR −77.9%, t −36.5, labelled complete."""
    raw = REAL.history("AMBA").copy()
    raw.loc[:"2019-10-08", ["close", "adj_close"]] *= 4  # a 4:1 split on 10-09 the file does not adjust for
    s = _study({"AMBA": raw})
    assert s.status == "bad_price"
    assert "suspect data" in s.reason
    assert next(d for d in s.days if d.date == date(2019, 10, 9)).status == "suspect"


def test_a_duplicate_date_is_refused_naming_the_file(tmp_path) -> None:
    """Before: the last row won blindly (CAR +4,982%)."""
    text = (SHARED_DATA / "prices" / "AMBA.csv").read_text().splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith("2019-10-08"))
    text.insert(at + 1, "2019-10-08,2.5,2.6,2.4,2.5,2.5,100")
    (tmp_path / "AMBA.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match=r"AMBA\.csv: AMBA has 1 date\(s\) with conflicting rows"):
        CsvDirectorySource(tmp_path).history("AMBA")
