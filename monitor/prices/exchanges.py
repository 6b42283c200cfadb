"""Reference data: which exchange a Yahoo-style symbol trades on, its calendar and its local benchmark.

A symbol's suffix names its exchange (``002415.SZ`` → Shenzhen); US listings carry no suffix. Each exchange's MIC
maps to an ``exchange-calendars`` calendar and a default local benchmark (a local index already contains the local
market's reaction to the same news, so it is the right market return for that exchange). A universe row may carry
its own MIC (XNAS, XSHE …) and benchmark; those win over the suffix defaults.

Indices are listed explicitly: a caret symbol is not guessed onto a calendar, and an index's zero volume is not a
halt (Yahoo reports no volume for ``^GSPC`` in most of its history and none at all for ``^SOX``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from monitor.errors import InputError


@dataclass(frozen=True, slots=True)
class Exchange:
    suffix: str  # Yahoo suffix including the dot; "" for US listings
    mic: str  # ISO 10383 market identifier of the listing venue
    calendar: str  # exchange-calendars calendar name that holds the venue's sessions
    benchmark: str  # default local benchmark, a Yahoo symbol
    currency: str  # ISO 4217 trading currency


@dataclass(frozen=True, slots=True)
class Listing:
    """Where one symbol trades, resolved from the table and any per-security overrides."""

    symbol: str
    mic: str
    calendar: str
    benchmark: str
    currency: str
    is_index: bool


# Suffix → exchange. One row per venue; the comment says why the row is what it is.
EXCHANGES: tuple[Exchange, ...] = (
    # US listings (NYSE, Nasdaq, NYSE American, Arca): one holiday schedule, so xcals aliases XNAS to XNYS.
    Exchange("", "XNYS", "XNYS", "^GSPC", "USD"),
    # Shanghai Stock Exchange, main board and STAR (688xxx).
    Exchange(".SS", "XSHG", "XSHG", "000300.SS", "CNY"),
    # Shenzhen Stock Exchange (main board, ChiNext 300xxx). exchange-calendars has no XSHE: we ASSUME Shenzhen shares
    # the mainland holiday schedule, which holds because both follow the same State Council holiday notice.
    Exchange(".SZ", "XSHE", "XSHG", "000300.SS", "CNY"),
    # Hong Kong Exchanges (HKEX main board); its own holidays (e.g. Chung Yeung) and typhoon closures differ.
    Exchange(".HK", "XHKG", "XHKG", "^HSI", "HKD"),
    # Tokyo Stock Exchange: a few universe names (suppliers) trade only there.
    Exchange(".T", "XTKS", "XTKS", "^N225", "JPY"),
    # Korea Exchange (KOSPI): memory-chip suppliers and customers.
    Exchange(".KS", "XKRX", "XKRX", "^KS11", "KRW"),
    # Taiwan Stock Exchange: foundry and packaging suppliers.
    Exchange(".TW", "XTAI", "XTAI", "^TWII", "TWD"),
)

# What a reader calls the market a calendar belongs to (alerts say "after the New York close").
CALENDAR_NAMES: dict[str, str] = {
    "XNYS": "New York",
    "XSHG": "Shanghai/Shenzhen",
    "XHKG": "Hong Kong",
    "XTKS": "Tokyo",
    "XKRX": "Seoul",
    "XTAI": "Taipei",
}

# Indices Yahoo names with a caret carry no suffix; their venue is stated here, never guessed.
CARET_INDICES: dict[str, str] = {
    "^GSPC": "XNYS",  # S&P 500
    "^DJI": "XNYS",  # Dow Jones Industrial Average
    "^IXIC": "XNAS",  # Nasdaq Composite
    "^NDX": "XNAS",  # Nasdaq-100
    "^SOX": "XNAS",  # PHLX Semiconductor index (Nasdaq-run), trades on US sessions
    "^HSI": "XHKG",  # Hang Seng Index
    "^N225": "XTKS",  # Nikkei 225
    "^KS11": "XKRX",  # KOSPI
    "^TWII": "XTAI",  # TAIEX
}

# Indices that carry an exchange suffix like a share does; they must not be mistaken for halted shares.
SUFFIXED_INDICES: frozenset[str] = frozenset(
    {
        "000300.SS",  # CSI 300 (listed under Shanghai on Yahoo although it spans both exchanges)
        "000001.SS",  # SSE Composite; note 000001.SZ is Ping An Bank, a share
        "000016.SS",  # SSE 50
        "000905.SS",  # CSI 500
        "399001.SZ",  # SZSE Component
        "399006.SZ",  # ChiNext index
    }
)

# Listing venue MIC → calendar. Venues of one market that share its holidays map to the same calendar.
MIC_CALENDARS: dict[str, str] = {
    "XNYS": "XNYS",
    "XNAS": "XNYS",  # Nasdaq keeps NYSE holidays
    "XASE": "XNYS",  # NYSE American
    "ARCX": "XNYS",  # NYSE Arca (ETFs such as SOXX, SPY)
    "BATS": "XNYS",  # Cboe BZX
    "XSHG": "XSHG",
    "XSHE": "XSHG",  # see the Shenzhen row above: assumed to share the mainland schedule
    "XHKG": "XHKG",
    "XTKS": "XTKS",
    "XKRX": "XKRX",
    "XTAI": "XTAI",
}

_BY_SUFFIX: dict[str, Exchange] = {exchange.suffix: exchange for exchange in EXCHANGES}
_BY_MIC: dict[str, Exchange] = {exchange.mic: exchange for exchange in EXCHANGES}


def normalise_symbol(symbol: str) -> str:
    """Yahoo symbols are case-insensitive; we store them upper-case and trimmed."""
    cleaned = symbol.strip().upper()
    if not cleaned or any(ch.isspace() for ch in cleaned) or "/" in cleaned:
        raise InputError(f"symbol {symbol!r}: expected a Yahoo-style symbol such as AMBA, 002415.SZ or ^GSPC")
    return cleaned


def suffix_of(symbol: str) -> str:
    """The exchange suffix (".SZ"), or "" for a US listing; class shares such as BRK.B stay US."""
    head, dot, tail = symbol.rpartition(".")
    if dot and head and "." + tail in _BY_SUFFIX:
        return "." + tail
    return ""


def known_suffixes() -> str:
    """``.SS (XSHG), .SZ (XSHE), …``: what an error about a suffix lists."""
    return ", ".join(f"{e.suffix} ({e.mic})" for e in EXCHANGES if e.suffix)


def refuse_unknown_suffix(symbol: str) -> None:
    """A suffix of two or more letters that the table lacks (``7203.TYO``, ``VOD.L`` is one letter and stays a US
    class share like ``BRK.B``) is an error naming the known ones: read as New York, its day 0 and benchmark would
    be silently wrong."""
    head, dot, tail = symbol.rpartition(".")
    if dot and head and len(tail) >= 2 and "." + tail not in _BY_SUFFIX and symbol not in SUFFIXED_INDICES:
        raise InputError(
            f"symbol {symbol}: unknown exchange suffix .{tail}; known suffixes: {known_suffixes()}, "
            "and none for a US listing (extend EXCHANGES in monitor/prices/exchanges.py)"
        )


def is_index(symbol: str) -> bool:
    symbol = normalise_symbol(symbol)
    return symbol.startswith("^") or symbol in SUFFIXED_INDICES


def calendar_for_mic(mic: str) -> str:
    """The calendar name for a venue MIC; an unknown MIC is an error naming the table to extend."""
    key = mic.strip().upper()
    if key in MIC_CALENDARS:
        return MIC_CALENDARS[key]
    raise InputError(
        f"exchange MIC {mic!r} has no calendar mapping; known: {', '.join(sorted(MIC_CALENDARS))} "
        "(extend MIC_CALENDARS in monitor/prices/exchanges.py)"
    )


@lru_cache(maxsize=8192)
def listing(symbol: str, *, mic: str | None = None, benchmark: str | None = None) -> Listing:
    """Resolve a symbol's venue, calendar and benchmark; explicit ``mic``/``benchmark`` (from the universe) win."""
    symbol = normalise_symbol(symbol)
    if symbol.startswith("^"):
        if mic is None and symbol not in CARET_INDICES:
            raise InputError(
                f"index {symbol}: unknown venue; known indices: {', '.join(sorted(CARET_INDICES))} "
                "(pass its MIC, or extend CARET_INDICES in monitor/prices/exchanges.py)"
            )
        venue = (mic or CARET_INDICES[symbol]).upper()
        calendar = calendar_for_mic(venue)
        default = _BY_MIC.get(venue) or _BY_MIC[calendar]
        return Listing(symbol, venue, calendar, benchmark or symbol, default.currency, True)
    if mic is None:
        refuse_unknown_suffix(symbol)
    exchange = _BY_SUFFIX[suffix_of(symbol)]
    venue = (mic or exchange.mic).upper()
    calendar = calendar_for_mic(venue)
    currency = (_BY_MIC.get(venue) or exchange).currency
    return Listing(symbol, venue, calendar, benchmark or exchange.benchmark, currency, symbol in SUFFIXED_INDICES)


def calendar_names() -> tuple[str, ...]:
    """Every calendar the table can resolve to, for start-up coverage checks."""
    return tuple(sorted(set(MIC_CALENDARS.values())))
