"""``monitor match`` and ``monitor universe``: match a name by hand, and keep the universe of securities.

The universe lives in the database and is seeded from the package on first use, so ``monitor match Hikvision``
works on a fresh install. ``--universe``/``--exposures``/``--links`` switch ``match`` to files instead (parts not
given come from the shipped seed), which needs no database at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor.commands._common import app_context, console, err_console, print_json

if TYPE_CHECKING:
    from monitor.bootstrap import AppContext
    from monitor.config import MatchingSettings
    from monitor.matching.matcher import Matcher
    from monitor.matching.store import SeedReport

MAX_REPORTED_ERRORS = 1_000  # bad rows printed one per line by an import; the rest are counted

universe_app = typer.Typer(
    help="Import, list and refresh the securities universe, links and exposures.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def match(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., help="Entity name as the rule writes it, e.g. 'Hangzhou Hikvision Digital Technology Co., Ltd.'"
    ),
    alias: list[str] = typer.Option([], "--alias", "-a", help="An alias of the entity (repeatable)."),
    universe: Path | None = typer.Option(
        None, "--universe", dir_okay=False, help="Universe CSV instead of the database."
    ),
    exposures: Path | None = typer.Option(None, "--exposures", dir_okay=False, help="Exposures CSV (file mode)."),
    links: Path | None = typer.Option(None, "--links", dir_okay=False, help="Corporate links CSV (file mode)."),
    country: str | None = typer.Option(
        None, "--country", help="Entity country as ISO code (e.g. CN); mildly penalises foreign listings."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Announcement date (YYYY-MM-DD): flag securities listed later or already delisted."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """Match one entity name against the universe: ranked securities with relation, score and reason."""

    day = _as_of_date(as_of)
    context = app_context(ctx)
    settings = context.settings.matching
    if universe is not None or exposures is not None or links is not None:
        from monitor.matching.csv_files import read_universe
        from monitor.matching.index import MatchIndex
        from monitor.matching.matcher import Matcher

        universe_data, problems = read_universe(universe, exposures, links)
        for problem in problems:
            err_console.print(f"skipped {problem}")
        matcher = Matcher(MatchIndex.build(universe_data), settings)
    else:
        matcher = _stored_matcher(context, settings)
    results = matcher.match_name(name, alias, country.upper() if country else None, as_of=day)
    if as_json:
        print_json([_as_dict(result) for result in results])
        return
    _print_matches(name, results, settings.auto_threshold, settings.review_threshold)


def _stored_matcher(context: AppContext, settings: MatchingSettings) -> Matcher:
    """The matcher over the index file of the stored universe's version: opened straight away when it is written
    (the embedded database read with sqlite3 alone, another database with one plain query and no ORM), else seeded
    and built through the storage layer first."""
    from monitor.matching.matcher import Matcher
    from monitor.matching.persisted import current_index, embedded_current_index

    cache = context.settings.data_dir / "cache"
    index = None
    if context.settings.uses_embedded_database:
        database = Path(context.settings.effective_database_url.removeprefix("sqlite:///"))
        index = embedded_current_index(database, cache)
    if index is None:
        with context.engine().connect() as connection:
            index = current_index(connection, cache)
    if index is not None:
        return Matcher(index, settings)
    from monitor.matching.store import stored_matcher

    with context.sessions().begin() as session:
        return stored_matcher(session, cache, settings)


def _as_of_date(text: str | None) -> Any:
    from datetime import date

    from monitor.errors import InputError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a date like 2019-10-07") from None


def _as_dict(result: Any) -> dict[str, Any]:
    return {
        "ticker": result.symbol,
        "issuer": result.issuer,
        "relation": result.relation.value,
        "score": result.score,
        "confirmed": result.confirmed,
        "reason": result.reason,
        "method": result.method,
        "weight": result.weight,
        "entity_name": result.entity_name,
        "features": result.features,
    }


def _print_matches(name: str, results: list[Any], auto: float, review: float) -> None:
    """One line per match, its reason indented below: readable in a narrow terminal or a chat paste."""
    from rich.markup import escape

    if not results:
        console.print(f"no match for {escape(repr(name))} above the review threshold ({review:.2f})")
        return
    confirmed = sum(result.confirmed for result in results)
    console.print(
        f"[bold]{escape(name)}[/bold]: {confirmed} confirmed, {len(results) - confirmed} for review "
        f"(auto >= {auto:.2f}, review >= {review:.2f})"
    )
    width = max(len(result.symbol) for result in results)
    for rank, result in enumerate(results, start=1):
        status = "[green]auto  [/green]" if result.confirmed else "[yellow]review[/yellow]"
        weight = "" if result.weight is None else f" weight {result.weight:.0%}"
        listing = result.features.get("listing_status", "listed")
        if listing != "listed":
            weight += f" [red]{listing.replace('_', ' ')}[/red]"
        console.print(
            f"{rank:>3}. {result.symbol:<{width}}  {result.relation.value:<10} {result.score:.2f} {status} "
            f"{escape(result.issuer)}{weight}"
        )
        console.print(f"     [dim]{escape(result.reason)}[/dim]")


@universe_app.command("import")
def import_file(
    ctx: typer.Context,
    path: Path = typer.Argument(..., dir_okay=False, help="CSV of securities, exposures or corporate links."),
    kind: str | None = typer.Option(None, "--kind", help="securities, exposures or links; default: from the header."),
    no_seed: bool = typer.Option(False, "--no-seed", help="Do not load the shipped seed into an empty universe first."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print {path, kind, loaded, written, bad_rows, errors: [{line, message}], seeded} as JSON; "
        "exit 1 on bad rows, as without --json.",
    ),
) -> None:
    """Load or update a CSV; bad rows are reported by line number (exit 1) and the good rows are loaded."""
    from monitor.errors import InputError
    from monitor.matching import csv_files
    from monitor.matching.store import ensure_seed_universe, save_exposures, save_links, save_securities

    try:
        file_kind = csv_files.FileKind(kind) if kind else csv_files.detect_file_kind(path)
    except ValueError:
        raise InputError(f"--kind {kind!r}: expected securities, exposures or links") from None
    context = app_context(ctx)
    errors: list[csv_files.RowError] = []
    loaded = written = bad_rows = 0
    with context.sessions().begin() as session:  # streamed a batch at a time, committed (or not) as a whole
        seeded = None if no_seed else ensure_seed_universe(session, market=context.settings.matching.market_universe)
        for rows, bad in csv_files.batches(path, file_kind):
            missing: list[csv_files.RowError] = []
            if file_kind is csv_files.FileKind.SECURITIES:
                written += save_securities(session, [s for _, s in rows], source=f"import:{path.name}"[:64])
            elif file_kind is csv_files.FileKind.LINKS:
                count, missing = save_links(session, rows)
                written += count
            else:
                count, missing = save_exposures(session, rows)
                written += count
            loaded += len(rows) - len(missing)
            errors += (bad + missing)[: max(0, MAX_REPORTED_ERRORS - len(errors))]
            bad_rows += len(bad) + len(missing)
    errors.sort(key=lambda error: error.line)
    if as_json:
        print_json(
            {
                "path": str(path),
                "kind": file_kind.value,
                "loaded": loaded,
                "written": written,
                "bad_rows": bad_rows,
                "errors": [{"line": error.line, "message": error.message} for error in errors],  # the first 1,000
                "seeded": None if seeded is None else _seed_json(seeded),
            }
        )
        if bad_rows:
            raise typer.Exit(1)
        return
    if seeded is not None:
        console.print(
            f"empty universe: loaded the shipped seed first ({seeded.securities} securities, "
            f"{seeded.links} links, {seeded.exposures} exposures, {seeded.market} market listings)"
        )
    console.print(f"{path}: {loaded} {file_kind.value} row(s) loaded ({written} written), {bad_rows} bad row(s)")
    for error in errors:
        err_console.print(f"{path}:{error.line}: {error.message}", markup=False, highlight=False)
    if bad_rows > len(errors):
        err_console.print(f"{path}: … and {bad_rows - len(errors)} more bad row(s)", markup=False, highlight=False)
    if bad_rows:
        raise typer.Exit(1)


@universe_app.command("list")
def list_universe(
    ctx: typer.Context,
    search: str | None = typer.Option(
        None, "--search", "-s", help="Only rows whose symbol, name or alias contains this."
    ),
    show_links: bool = typer.Option(False, "--links", help="List curated corporate links instead of securities."),
    show_exposures: bool = typer.Option(False, "--exposures", help="List exposures instead of securities."),
    limit: int = typer.Option(100, "--limit", min=0, help="Most rows shown; 0 means all."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the stored universe (seeded on first use), its corporate links or its exposures."""

    from monitor.matching.store import ensure_seed_universe, load_universe

    context = app_context(ctx)
    with context.sessions().begin() as session:
        ensure_seed_universe(session, market=context.settings.matching.market_universe)
        universe = load_universe(session)
    needle = (search or "").casefold()
    rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    if show_links:
        rows = [link.model_dump(mode="json") for link in universe.links]
        columns = ("entity_name", "symbol", "relation", "source")
    elif show_exposures:
        rows = [exposure.model_dump(mode="json") for exposure in universe.exposures]
        columns = ("symbol", "counterparty", "relation", "weight", "source")
    else:
        rows = [security.model_dump(mode="json") for security in universe.securities]
        columns = ("symbol", "issuer_name", "exchange_mic", "country", "currency", "benchmark", "aliases")
    if needle:
        rows = [row for row in rows if needle in " ".join(str(value) for value in row.values()).casefold()]
    total = len(rows)
    if limit:
        rows = rows[:limit]
    if as_json:
        print_json(rows)
        return
    from monitor.commands._table import Column, emit

    emit(
        [Column(c, identifier=c in ("symbol", "exchange_mic", "country", "currency", "benchmark")) for c in columns],
        [[_cell(row.get(column)) for column in columns] for row in rows],
        title=f"{len(rows)} of {total} row(s)",
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " | ".join(str(item) for item in value)
    return str(value)


def _seed_json(report: SeedReport) -> dict[str, int]:
    """What the shipped seed wrote: the same shape in ``universe seed --json`` and ``universe import --json``."""
    return {
        "securities": report.securities,
        "links": report.links,
        "exposures": report.exposures,
        "market": report.market,
    }


@universe_app.command("seed")
def seed(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="Print {securities, links, exposures, market} (rows applied) as JSON."
    ),
) -> None:
    """Apply the seed shipped with this version (listings, curated links, exposures); safe to run twice."""
    from monitor.matching.store import apply_seed

    context = app_context(ctx)
    with context.sessions().begin() as session:
        report = apply_seed(session, market=context.settings.matching.market_universe)
    if as_json:
        print_json(_seed_json(report))
        return
    console.print(
        f"shipped seed applied: {report.securities} securities, {report.links} corporate links, "
        f"{report.exposures} exposures; market universe: {report.market} listings (FinanceDatabase, MIT)"
    )


@universe_app.command("refresh-sec")
def refresh_sec(
    ctx: typer.Context,
    include_otc: bool = typer.Option(False, "--include-otc", help="Also add OTC-traded listings."),
    url: str | None = typer.Option(None, "--url", help="Override settings.sec_tickers_url (MONITOR_SEC_TICKERS_URL)."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print {source, url, fetched, securities, aliases_added, malformed, skipped: {reason: count}} as JSON.",
    ),
) -> None:
    """Add and refresh US listings from the SEC company tickers file (needs network.contact_email)."""
    import httpx

    from monitor.matching.sec import refresh_from_sec

    context = app_context(ctx)
    settings = context.settings
    target = url or settings.sec_tickers_url
    with (
        httpx.Client(follow_redirects=True) as client,
        context.sessions().begin() as session,
        err_console.status(f"fetching {target}"),  # on stderr: stdout is the answer's alone
    ):
        report = refresh_from_sec(session, client, target, settings.network, include_otc=include_otc)
    if as_json:
        print_json(
            {
                "source": "sec",
                "url": target,
                "fetched": report.fetched,
                "securities": report.securities,
                "aliases_added": report.aliases_added,
                "malformed": report.malformed,
                "skipped": dict(report.skipped),
            }
        )
        return
    skipped = ", ".join(f"{why} {count}" for why, count in report.skipped.items() if count) or "none"
    console.print(
        f"SEC: {report.fetched} listing(s) fetched, {report.securities} securities upserted, "
        f"{report.aliases_added} alias(es) added, {report.malformed} malformed; skipped: {skipped}"
    )


@universe_app.command("refresh")
def refresh(
    ctx: typer.Context,
    source: str = typer.Option(..., "--source", help="financedatabase, sse, szse, hkex or gleif."),
    path: Path | None = typer.Option(
        None,
        "--path",
        help="FinanceDatabase: its database/equities folder (SHH.csv, SHZ.csv, HKG.csv). Exchanges: a saved answer "
        "(SSE or SZSE JSON, HKEX xlsx) instead of fetching.",
    ),
    url: str | None = typer.Option(
        None, "--url", help="Override the list's URL (sse, szse, hkex) or GLEIF's API base."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="gleif: at most this many listings (by symbol)."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print {source, read, written, skipped: {reason: count}} as JSON; with gleif "
        "{source, listings, leis, relationships}.",
    ),
) -> None:
    """Add and update listings from a public list (curated rows keep their fields, the list's name becomes an alias),
    or, with ``--source gleif``, cache the parents and subsidiaries of listings with an ISIN from GLEIF."""
    from monitor.errors import InputError

    if source == "gleif":
        _refresh_gleif(ctx, url, limit, as_json=as_json)
        return
    from monitor.matching import exchange_lists
    from monitor.matching.financedatabase import read_directory
    from monitor.matching.listings import ListedCompany, to_securities
    from monitor.matching.store import add_listings, ensure_seed_universe

    skipped: dict[str, int] = {}
    companies: list[ListedCompany]
    if source == "financedatabase":
        if path is None:
            raise InputError("--source financedatabase needs --path DIR (the folder with SHH.csv, SHZ.csv, HKG.csv)")
        parsed = read_directory(path)
        companies, skipped = parsed.companies, parsed.skipped
    elif source == "hkex" and path is not None:
        companies = exchange_lists.parse_hkex(path.read_bytes(), str(path))
    elif source in ("sse", "szse") and path is not None:
        parse = exchange_lists.parse_sse if source == "sse" else exchange_lists.parse_szse
        companies = parse(path.read_text(encoding="utf-8"), str(path))
    elif source in ("sse", "szse", "hkex"):
        import httpx

        fetch = {"sse": exchange_lists.fetch_sse, "szse": exchange_lists.fetch_szse, "hkex": exchange_lists.fetch_hkex}
        with httpx.Client(follow_redirects=True) as client, err_console.status(f"fetching the {source} list"):
            companies = fetch[source](client, url) if url else fetch[source](client)
    else:
        raise InputError(f"--source {source!r}: expected financedatabase, sse, szse, hkex or gleif")
    securities = to_securities(companies)
    context = app_context(ctx)
    with context.sessions().begin() as session:
        ensure_seed_universe(session, market=context.settings.matching.market_universe)
        written = add_listings(session, securities, source=source)
    if as_json:
        print_json({"source": source, "read": len(securities), "written": written, "skipped": dict(skipped)})
        return
    left = ", ".join(f"{why} {count}" for why, count in skipped.items() if count) or "none"
    console.print(f"{source}: {len(securities)} listing(s) read, {written} written; skipped: {left}")


def _refresh_gleif(ctx: typer.Context, url: str | None, limit: int | None, *, as_json: bool) -> None:
    import httpx

    from monitor.matching.gleif import GLEIF_URL, refresh_from_gleif

    context = app_context(ctx)
    with (
        httpx.Client(follow_redirects=True, timeout=30.0) as client,
        context.sessions().begin() as session,
        err_console.status("asking GLEIF (about one request a second)"),
    ):
        report = refresh_from_gleif(session, client, base_url=url or GLEIF_URL, limit=limit)
    if as_json:
        print_json(
            {
                "source": "gleif",
                "listings": report.listings,
                "leis": report.leis,
                "relationships": report.relationships,
            }
        )
        return
    console.print(
        f"gleif: {report.listings} listing(s) with an ISIN asked, {report.leis} LEI(s) found, "
        f"{report.relationships} consolidation relationship(s) cached"
    )
