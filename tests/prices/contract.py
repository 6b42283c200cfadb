"""What every ``PriceSource`` promises, written once (the exchange_calendars way): subclass ``PriceSourceContract``
in the adapter's test module and supply only its fixture.

The promise (``monitor.prices.sources``): a frame with exactly ``COLUMNS`` as float64, indexed by tz-naive session
dates named ``date``, sorted and unique; ``start`` and ``end`` inclusive; a symbol the source does not know is
``NoPriceData``, never an empty frame or a vendor's exception.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from monitor.errors import NoPriceData
from monitor.prices.sources import COLUMNS, PriceSource


class PriceSourceContract:
    """Subclass as ``TestXxxSource`` and override the ``source`` fixture; ``KNOWN`` must trade on START and END."""

    KNOWN = "AMBA"
    START = date(2019, 10, 1)  # a Tuesday: AMBA traded
    END = date(2019, 10, 8)  # the day after the October 2019 rule was filed
    UNKNOWN = "NOPE"

    @pytest.fixture
    def source(self) -> PriceSource:
        raise NotImplementedError("subclasses supply the adapter")

    def test_is_a_named_price_source(self, source: PriceSource) -> None:
        assert isinstance(source, PriceSource)
        assert isinstance(source.name, str)
        assert source.name

    def test_the_frame_has_the_protocols_shape(self, source: PriceSource) -> None:
        frame = source.history(self.KNOWN, self.START, self.END)
        assert tuple(frame.columns) == COLUMNS
        assert all(dtype == "float64" for dtype in frame.dtypes)
        assert isinstance(frame.index, pd.DatetimeIndex)
        assert frame.index.name == "date"
        assert frame.index.tz is None
        assert frame.index.is_monotonic_increasing
        assert frame.index.is_unique
        assert (frame.index == frame.index.normalize()).all()

    def test_start_and_end_are_inclusive(self, source: PriceSource) -> None:
        frame = source.history(self.KNOWN, self.START, self.END)
        assert frame.index[0] == pd.Timestamp(self.START)
        assert frame.index[-1] == pd.Timestamp(self.END)

    def test_an_unknown_symbol_is_no_price_data(self, source: PriceSource) -> None:
        with pytest.raises(NoPriceData):
            source.history(self.UNKNOWN, self.START, self.END)
