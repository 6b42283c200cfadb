"""Prices: sources (yfinance, CSV directory), the database price store, exchange calendars, day 0 and returns.

Modules: ``exchanges`` (symbol → venue → calendar → benchmark), ``calendars`` (sessions, day 0, coverage),
``sources`` / ``yfinance_source`` (the ``PriceSource`` protocol and its adapters), ``store`` (incremental refresh
into the database and the reader), ``returns`` (trade-to-trade returns with halts), ``quotes`` (last price and the
move since an announcement). Import from the submodules; this package imports nothing heavy by itself.
"""
