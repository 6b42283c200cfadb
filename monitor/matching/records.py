"""What a universe snapshot holds: listings, curated corporate links and commercial exposures.

A ``Universe`` is plain data, read from the database (``store.load_universe``) or from CSV files
(``csv_files.read_universe``); the matcher's index is built from it once and then used without I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from monitor.models import Relation, Security


class LinkRole(StrEnum):
    """The linked entity's role towards the listed security (the Match relation uses the same word)."""

    PARENT = "parent"  # the entity controls the listed company (CETC over Hikvision)
    SUBSIDIARY = "subsidiary"  # the entity is controlled by the listed company (SMIC Beijing under SMIC)


class CounterpartyRole(StrEnum):
    """The counterparty's role towards the listed security, as exposure files state it."""

    SUPPLIER = "supplier"  # the counterparty sells to the security's issuer
    CUSTOMER = "customer"  # the counterparty buys from the security's issuer
    COMPETITOR = "competitor"


# An exposure file says "Hikvision is AMBA's customer"; a Match says "AMBA is the listed entity's supplier".
_SECURITY_ROLE: dict[CounterpartyRole, Relation] = {
    CounterpartyRole.CUSTOMER: Relation.SUPPLIER,
    CounterpartyRole.SUPPLIER: Relation.CUSTOMER,
    CounterpartyRole.COMPETITOR: Relation.COMPETITOR,
}


def security_role(counterparty_role: CounterpartyRole) -> Relation:
    """The exposed security's relation to a listed counterparty: the inverse of the counterparty's role."""
    return _SECURITY_ROLE[counterparty_role]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorporateLinkRecord(_Frozen):
    """A control relation between a (usually unlisted) entity and a listed security, from curated public facts."""

    entity_name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    symbol: str
    relation: LinkRole
    source: str | None = None


class ExposureRecord(_Frozen):
    """A commercial tie: ``counterparty`` is the listed security's supplier, customer or competitor."""

    symbol: str
    counterparty: str = Field(min_length=1)
    relation: CounterpartyRole
    weight: float | None = Field(None, ge=0, le=1)  # revenue share when disclosed
    source: str | None = None
    year: int | None = Field(None, ge=1900, le=2100)  # the fiscal year the disclosed share is of


@dataclass(frozen=True)
class Universe:
    """A consistent snapshot: every link and exposure names a symbol among ``securities``."""

    securities: tuple[Security, ...]
    links: tuple[CorporateLinkRecord, ...] = ()
    exposures: tuple[ExposureRecord, ...] = ()
    symbols: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", frozenset(security.symbol for security in self.securities))

    def digest(self) -> str:
        """A content hash of the snapshot: equal universes (from any database) have equal digests."""
        digest = hashlib.sha256()
        for group in (self.securities, self.links, self.exposures):
            for record in group:
                digest.update(repr(tuple(record.__dict__.values())).encode())
            digest.update(b"\x00")
        return digest.hexdigest()

    def restricted(self) -> Universe:
        """The same universe without links or exposures that point at symbols it does not hold."""
        return Universe(
            securities=self.securities,
            links=tuple(link for link in self.links if link.symbol in self.symbols),
            exposures=tuple(exposure for exposure in self.exposures if exposure.symbol in self.symbols),
        )
