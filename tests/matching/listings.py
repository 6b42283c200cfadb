"""Listings for matcher tests: a Shanghai A share by default, only what a test is about given."""

from __future__ import annotations

from monitor.models import Security


def a_share(symbol: str, name: str, *aliases: str) -> Security:
    return Security(
        symbol=symbol,
        issuer_name=name,
        aliases=aliases,
        exchange_mic="XSHG",
        country="CN",
        currency="CNY",
        benchmark="000300.SS",
    )
