"""``monitor prices``: fetch bars into the store, show them with returns and halts, check calendars, find day 0."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from monitor.commands._common import app_context, err_console, print_json
from monitor.commands._table import Column, emit, text_line

if TYPE_CHECKING:
    import pandas as pd

    from monitor.prices.store import RefreshResult

app = typer.Typer(help="Daily prices, exchange calendars and day 0.", no_args_is_help=True, rich_markup_mode=None)

_DATE = ["%Y-%m-%d"]
_STYLE = {"ok": "green", "no_data": "yellow", "degraded": "yellow", "error": "red"}


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _timestamp(text: str) -> datetime:
    """An ISO 8601 time with an offset (``2019-10-07T20:30:00Z``); a naive time would be a guess, so it is refused."""
    from monitor.clock import parse_instant

    return parse_instant(text, "--at")


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    symbols: list[str] = typer.Argument(..., help="Yahoo-style symbols: AMBA 002415.SZ 0981.HK ^GSPC."),
    since: datetime | None = typer.Option(None, "--since", formats=_DATE, help="Load history from this date."),
    source_spec: str | None = typer.Option(
        None, "--source", help="yfinance or dir:PATH (default: prices.source, MONITOR_PRICES__SOURCE)."
    ),
    full: bool = typer.Option(False, "--full", help="Re-fetch the whole stored history instead of the overlap."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Fetch daily bars into the database: the first time in full, then incrementally. Exit 1 if any symbol failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.clock import SystemClock
    from monitor.commands.compose import make_source
    from monitor.prices.store import PriceStore

    context = app_context(ctx)
    settings = context.settings
    source = make_source(
        source_spec or settings.prices.source, settings=settings, option="--source" if source_spec else "prices.source"
    )
    store = PriceStore.from_settings(context.sessions(), settings, clock=SystemClock())
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task(f"fetching from {source.name}", total=len(symbols))

        def advance(result: RefreshResult) -> None:
            progress.update(task, advance=1, description=f"{result.symbol}: {result.status}")

        results = store.refresh_many(symbols, source, since=_day(since), full=full, on_result=advance)
    if as_json:
        print_json([_result_json(r) for r in results])
    else:
        _print_results(results, source.name)
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


def _result_json(result: RefreshResult) -> dict[str, Any]:
    return {
        "symbol": result.symbol,
        "status": result.status,
        "mode": result.mode,
        "fetched": result.fetched,
        "written": result.written,
        "unfinished": result.unfinished,
        "first_session": result.first_session,
        "last_session": result.last_session,
        "reason": result.reason,
        "retry_after_seconds": result.retry_after,
    }


def _print_results(results: list[RefreshResult], source: str) -> None:
    rows = []
    for result in results:
        span = f"{result.first_session} to {result.last_session}" if result.last_session else "—"
        note = result.reason or ""
        if result.unfinished:
            note = (note + "; " if note else "") + f"{result.unfinished} unfinished bar(s) left for later"
        style = _STYLE.get(result.status, "")
        rows.append([result.symbol, f"[{style}]{result.status}[/]", result.mode, str(result.written), span, note])
    emit(
        [
            Column("symbol", identifier=True),
            Column("status", identifier=True),
            Column("mode", drop=1),
            Column("written", justify="right"),
            Column("stored"),
            Column("note"),
        ],
        rows,
        title=f"prices from {source}",
    )
    degraded = [r for r in results if r.status == "degraded" and r.retry_after]
    if degraded:
        text_line(f"[yellow]rate limited: retry in about {degraded[0].retry_after:.0f} s[/]")


@app.command("show")
def show(
    ctx: typer.Context,
    symbol: str = typer.Argument(..., help="A symbol already fetched, e.g. 002415.SZ."),
    since: datetime | None = typer.Option(None, "--since", formats=_DATE, help="First date (default: 30 days back)."),
    until: datetime | None = typer.Option(None, "--until", formats=_DATE, help="Last date (default: latest)."),
    ohlc: bool = typer.Option(False, "--ohlc", help="Also show open, high and low."),
    as_json: bool = typer.Option(False, "--json", help="Print rows as JSON."),
) -> None:
    """Stored bars with trade-to-trade returns; halts (no bar or zero volume on an expected session) are flagged."""
    from monitor.prices.exchanges import listing
    from monitor.prices.store import read_bars

    context = app_context(ctx)
    where = listing(symbol)
    with context.sessions()() as session:
        from monitor.db.tables.prices import PriceSyncState

        state = session.get(PriceSyncState, where.symbol)
        latest = state.last_session if state is not None else None
        if latest is None:
            err_console.print(f"no prices stored for {where.symbol}; run `monitor prices fetch {where.symbol}`")
            raise typer.Exit(1)
        last = _day(until) or latest
        first = _day(since) or last - timedelta(days=30)
        # one earlier week so the first row shown has its return
        bars = read_bars(session, where.symbol, first - timedelta(days=10), last)
    table_rows = _returns_rows(where.symbol, where.calendar, bars, first, last, context)
    if as_json:
        print_json(
            {
                "symbol": where.symbol,
                "calendar": where.calendar,
                "currency": bars.attrs.get("currency") or where.currency,
                "status": state.status if state else None,
                "rows": table_rows,
            }
        )
        return
    currency = bars.attrs.get("currency") or where.currency
    text_line(
        f"[bold]{where.symbol}[/]  {where.mic} (calendar {where.calendar})  currency {currency}"
        f"  sync: {state.status if state else '?'}, last fetch {_minute(state.last_fetch_at if state else None)}"
    )
    if state is not None and state.last_error:
        text_line(f"[yellow]last error: {state.last_error}[/]")
    ohlc_keys = ["open", "high", "low"] if ohlc else []
    columns = [
        Column("date", identifier=True),
        *(Column(key, identifier=True, justify="right", drop=1) for key in ohlc_keys),
        Column("close", identifier=True, justify="right"),
        Column("adj close", identifier=True, justify="right", drop=2),
        Column("volume", identifier=True, justify="right", drop=3),
        Column("return", identifier=True, justify="right"),
        Column("span", identifier=True, justify="right", drop=4),
        Column("status", identifier=True),
    ]
    rows = []
    for row in table_rows:
        status = row["status"]
        style = "red" if status == "halted" else ("dim" if status == "no_data" else "")
        rows.append(
            [
                row["date"],
                *(_num(row[key]) for key in ohlc_keys),
                _num(row["close"]),
                _num(row["adj_close"]),
                _num(row["volume"], 0),
                "" if row["return"] is None else f"{row['return']:+.2%}",
                str(row["span"] or ""),
                f"[{style}]{status}[/]" if style else status,
            ]
        )
    emit(columns, rows)


def _minute(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "?"


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _returns_rows(
    symbol: str, calendar: str, bars: pd.DataFrame, first: date, last: date, context: Any
) -> list[dict[str, Any]]:
    import math

    from monitor.errors import CalendarOutOfRange
    from monitor.prices.calendars import calendars_from_settings
    from monitor.prices.returns import session_returns

    calendars = calendars_from_settings(context.settings)
    start = bars.index[0].date() if len(bars) else first
    try:
        sessions = calendars.sessions(calendar, start, last)
    except CalendarOutOfRange as exc:
        err_console.print(f"[yellow]{exc}; showing bars without calendar checks[/]")
        sessions = bars.index
    table = session_returns(bars, sessions, symbol=symbol).loc[str(first) :]

    def clean(value: Any) -> Any:
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    out: list[dict[str, Any]] = []
    for day, row in table.iterrows():
        bar = bars.loc[day] if day in bars.index else None
        out.append(
            {
                "date": day.strftime("%Y-%m-%d"),
                "open": clean(float(bar["open"])) if bar is not None else None,
                "high": clean(float(bar["high"])) if bar is not None else None,
                "low": clean(float(bar["low"])) if bar is not None else None,
                "close": clean(float(bar["close"])) if bar is not None else None,
                "adj_close": clean(float(row["adj_close"])),
                "volume": clean(float(row["volume"])),
                "return": clean(float(row["ret"])),
                "span": int(row["span"]),
                "status": str(row["status"]),
            }
        )
    return out


@app.command("calendars")
def calendars(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the coverage as JSON."),
) -> None:
    """How far each exchange calendar's holiday data reaches, and which stretch is provisional (the holidays
    package's calendar past exchange-calendars' data); exit 1 when even that ends within calendars.warn_days
    (extend it with calendars.holiday_overrides)."""

    from monitor.clock import SystemClock
    from monitor.prices.calendars import calendars_from_settings, known_through
    from monitor.prices.exchanges import calendar_names

    settings = app_context(ctx).settings
    registry = calendars_from_settings(settings)
    warnings = registry.coverage(SystemClock().now(), warn_days=settings.calendars.warn_days)
    overrides = settings.calendars.holiday_overrides
    rows = [
        {
            "calendar": name,
            "holidays_known_through": known_through(name, overrides),
            "override_days": sum(len(days) for key, days in overrides.items() if registry.name_for_key(key) == name),
            "provisional": [day.isoformat() for day in span] if (span := registry.provisional(name)) else None,
        }
        for name in calendar_names()
    ]
    if as_json:
        print_json({"calendars": rows, "warnings": [w.message for w in warnings]})
    else:
        cells = []
        for row in rows:
            through = row["holidays_known_through"] or "rules, no fixed end"
            bounds = row["provisional"]
            provisional = f"{bounds[0]} to {bounds[1]}, corrected by index bars" if isinstance(bounds, list) else ""
            cells.append([str(row["calendar"]), str(through), str(row["override_days"]), provisional])
        emit(
            [
                Column("calendar", identifier=True),
                Column("holidays known through"),
                Column("override days", justify="right"),
                Column("provisional (holidays package)"),
            ],
            cells,
            title=f"exchange calendars (warn within {settings.calendars.warn_days} days)",
        )
        for warning in warnings:
            text_line(f"[yellow]warning: {warning.message}[/]")
    if warnings:
        raise typer.Exit(1)


@app.command("day0")
def day0(
    ctx: typer.Context,
    symbols: list[str] = typer.Argument(..., help="Symbols whose day 0 to compute."),
    at: str = typer.Option(..., "--at", help="Announcement time with offset, e.g. 2019-10-07T20:30:00Z."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Day 0 per symbol: the first session of its exchange whose close is at or after the announcement."""

    from monitor.prices.calendars import calendars_from_settings
    from monitor.prices.exchanges import listing

    announced = _timestamp(at)
    registry = calendars_from_settings(app_context(ctx).settings)
    rows = []
    for symbol in symbols:
        where = listing(symbol)
        session = registry.day0_on(where.calendar, announced)
        rows.append(
            {
                "symbol": where.symbol,
                "calendar": where.calendar,
                "day0": session,
                "close_utc": registry.session_close(where.calendar, session).isoformat(),
            }
        )
    if as_json:
        print_json(rows)
        return
    emit(
        [Column(name, identifier=True) for name in ("symbol", "calendar", "day 0", "its close (UTC)")],
        [[str(row["symbol"]), str(row["calendar"]), str(row["day0"]), str(row["close_utc"])] for row in rows],
        title=f"day 0 for an announcement at {announced.isoformat()}",
    )
