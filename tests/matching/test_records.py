"""Relation vocabulary: an exposure file's counterparty role turns into the security's role."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.matching.records import CounterpartyRole, ExposureRecord, security_role
from monitor.models import Relation


@pytest.mark.parametrize(
    ("counterparty", "security"),
    [
        (CounterpartyRole.CUSTOMER, Relation.SUPPLIER),  # Hikvision is AMBA's customer: AMBA supplies Hikvision
        (CounterpartyRole.SUPPLIER, Relation.CUSTOMER),
        (CounterpartyRole.COMPETITOR, Relation.COMPETITOR),
    ],
)
def test_security_role_inverts_the_counterparty_role(counterparty: CounterpartyRole, security: Relation) -> None:
    assert security_role(counterparty) is security


def test_exposure_weight_is_a_revenue_share() -> None:
    with pytest.raises(ValidationError):
        ExposureRecord(symbol="AMBA", counterparty="Hikvision", relation=CounterpartyRole.CUSTOMER, weight=1.2)
