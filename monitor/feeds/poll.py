"""One poll of one feed: fetch what is new, classify, extract, store, and report the arrivals.

The pipeline's single entry for "a document arrived": each ``poll_*`` returns a ``PollResult`` whose
``arrivals`` are the documents first seen by any feed or first seen by this feed (a filing now published),
with their classification, parse status and listing actions. Network work happens outside transactions; each
document is written in its own transaction, so one bad document never costs the others. Feed health goes to
``feed_state`` whether the poll succeeds or fails.

A quiet poll is one small request per feed: documents newest-first stop at the first already-published
document; public inspection sends a conditional GET and compares the issue's ``*_updated_at`` with the stored
cursor before reading its records; the CSL uses a conditional GET.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import Clock
from monitor.config import FeedSettings
from monitor.errors import FeedRejected, MonitorError
from monitor.feeds import csl_store, store
from monitor.feeds.classify import classify
from monitor.feeds.csl import CslClient, CslDiff, diff_snapshot
from monitor.feeds.extraction import ExtractionOutcome, extract_listing_actions
from monitor.feeds.federal_register import FederalRegisterClient
from monitor.feeds.pi_text import filing_text
from monitor.feeds.records import FrDocumentRecord, PiDocumentRecord
from monitor.logs import get_logger
from monitor.models import FeedName, ListingAction, ParseStatus

log = get_logger(__name__)


@dataclass(frozen=True)
class Arrival:
    """A document the pipeline should (re)consider; Entity List ones become events whatever their parse status."""

    document_id: int
    document_number: str
    feed: FeedName
    title: str
    html_url: str | None
    created: bool
    is_entity_list: bool
    classification: str
    parse_status: ParseStatus
    parse_error: str | None
    listing_actions: tuple[ListingAction, ...]


@dataclass(frozen=True)
class PollResult:
    feed: FeedName
    requests: int  # HTTP requests sent, retries included
    seen: int  # records the feed returned (BIS only for public inspection)
    arrivals: tuple[Arrival, ...] = ()
    csl_diff: CslDiff | None = None
    notes: tuple[str, ...] = ()


@dataclass
class _Run:
    feed: FeedName
    arrivals: list[Arrival] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen: int = 0
    diff: CslDiff | None = None


class FeedPoller:
    """Built once by the composition root (daemon, CLI, backfill) with its clock and clients."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        fr: FederalRegisterClient,
        csl: CslClient | None,
        clock: Clock,
        settings: FeedSettings,
    ) -> None:
        self.sessions = sessions
        self.fr = fr
        self.csl = csl
        self.clock = clock
        self.settings = settings

    def warm(self) -> None:
        """A PDF reader process started ahead (``pdf_text.keep_reader_ready``): a filing with only a PDF is read
        without first waiting for an interpreter and pdfplumber's imports."""
        from monitor.feeds.pdf_text import keep_reader_ready

        keep_reader_ready()

    def poll(self, feed: FeedName, *, since: date | None = None, until: date | None = None) -> PollResult:
        if feed is FeedName.DOCUMENTS:
            return self.poll_documents(since=since, until=until)
        if feed is FeedName.PUBLIC_INSPECTION:
            return self.poll_public_inspection(since=since)
        return self.poll_csl()

    # --- Federal Register documents -------------------------------------------------------------------------------

    def poll_documents(self, *, since: date | None = None, until: date | None = None) -> PollResult:
        """BIS documents newest first, down to the first already-published one (or ``since``, when given);
        ``until`` caps the publication date (a backfill of a past range)."""

        def body(run: _Run) -> dict[str, Any]:
            now = self.clock.now()
            with self.sessions() as session:
                fresh_start = not store.any_published(session)
            floor = since or (
                (now - timedelta(days=self.settings.initial_lookback_days)).date() if fresh_start else None
            )
            per_page = self.settings.backfill_per_page if since else self.settings.documents_per_page
            params = self.fr.search_params(since=floor, until=until, per_page=per_page)
            records: list[FrDocumentRecord] = []
            newest: str | None = None
            for page in self.fr.search_pages(params, max_pages=self.settings.max_pages):
                newest = newest or next((r.document_number for r in page.results), None)
                numbers = [r.document_number for r in page.results]
                with self.sessions() as session:
                    known = store.known_on_feed(session, numbers, FeedName.DOCUMENTS)
                run.seen += len(page.results)
                records += [r for r in page.results if r.document_number not in known]
                if known and since is None:
                    break
            for record in reversed(records):  # oldest first, so arrivals read in filing order
                self._arrive_published(record, run)
            self._retry_pending(run, skip={r.document_number for r in records})
            return {"newest_document": newest, "new_documents": len(records)}

        return self._run(FeedName.DOCUMENTS, self.fr.http, body)

    def _arrive_published(self, record: FrDocumentRecord, run: _Run) -> None:
        document = record.to_document()
        classification = classify(document)
        if not classification.is_bis:
            return
        outcome = None
        if classification.is_entity_list:
            outcome, completed = self._fetch_and_extract(
                document.document_number, record.full_text_xml_url, record.raw_text_url
            )
            if completed is not None:
                record, document = completed, completed.to_document()
        self._save(run, document, FeedName.DOCUMENTS, classification, record.model_dump(mode="json"), outcome)

    def _retry_pending(self, run: _Run, skip: set[str]) -> None:
        """Entity List documents whose XML/text fetch failed earlier get another try on each poll, a few times."""
        with self.sessions() as session:
            pending = [
                (d.id, d.document_number, d.full_text_xml_url, d.raw_text_url)
                for d in store.retryable_extractions(session, limit=5)
            ]
        for document_id, number, xml_url, text_url in pending:
            if number in skip:  # just tried in this poll
                continue
            outcome, _ = self._fetch_and_extract(number, xml_url, text_url)
            with self.sessions.begin() as session:
                attempts = store.bump_extraction_attempts(session, document_id)
                if outcome.status is ParseStatus.PENDING and attempts >= self.settings.extraction_attempts:
                    outcome = ExtractionOutcome(
                        ParseStatus.FAILED, error=f"{outcome.error} (after {attempts} attempts)"
                    )
                if store.save_extraction(session, document_id, outcome):  # the pipeline's catch-up takes it on
                    store.mark_pipeline_due(session, document_id, self.clock.now())
            log.info("extraction_retried", document=number, status=outcome.status.value, attempts=attempts)

    def _fetch_and_extract(
        self, number: str, xml_url: str | None, text_url: str | None
    ) -> tuple[ExtractionOutcome, FrDocumentRecord | None]:
        """Fetch XML (and raw text only if the XML fails), then run the fallback chain. A failed fetch leaves the
        document pending (retried later); a fetched but unparseable document is failed for good. A record
        without full-text URLs (default search fields, a saved search) is first completed from
        ``documents/<number>.json``, which is returned so its fuller metadata can be stored."""
        completed: FrDocumentRecord | None = None
        if not xml_url and not text_url:
            try:
                completed = self.fr.document(number)
            except FeedRejected as exc:
                return ExtractionOutcome(ParseStatus.FAILED, error=f"document record: {exc}"), None
            except MonitorError as exc:
                return ExtractionOutcome(ParseStatus.PENDING, error=f"document record: {exc}"), None
            xml_url, text_url = completed.full_text_xml_url, completed.raw_text_url
        xml, xml_problem = self._fetch(xml_url)
        outcome = extract_listing_actions(
            xml=xml,
            text=None,
            document_number=number,
            xml_problem=xml_problem,
            final=False,
            max_xml_bytes=self.settings.max_xml_bytes,
        )
        if outcome.status is ParseStatus.PARSED:
            return outcome, completed
        text, text_problem = self._fetch(text_url)
        fetched_everything = (xml is not None or xml_url is None) and (text is not None or text_url is None)
        outcome = extract_listing_actions(
            xml=xml,
            text=text.decode("utf-8", errors="replace") if text is not None else None,
            document_number=number,
            xml_problem=xml_problem,
            text_problem=text_problem,
            final=fetched_everything,
            max_xml_bytes=self.settings.max_xml_bytes,
        )
        return outcome, completed

    def _fetch(self, url: str | None) -> tuple[bytes | None, str | None]:
        if not url:
            return None, "no URL published"
        try:
            return self.fr.full_text(url), None
        except MonitorError as exc:
            log.warning("full_text_fetch_failed", url=url, error=str(exc))
            return None, str(exc)

    # --- public inspection ---------------------------------------------------------------------------------------

    def poll_public_inspection(self, *, since: date | None = None) -> PollResult:
        """``current.json`` (one request); with ``since``, also every day's issue from then to today."""

        def body(run: _Run) -> dict[str, Any]:
            with self.sessions() as session:
                cursor = store.read_feed_state(session, FeedName.PUBLIC_INSPECTION).cursor
            if since is not None:
                day, today = since, self.clock.now().date()
                while day <= today:
                    self._pi_records(self.fr.public_inspection_day(day).unique_results(), run)
                    day += timedelta(days=1)
            check = self.fr.public_inspection_check(cursor, force=since is not None)
            if check.issue is None:
                run.notes.append("public inspection unchanged since the last poll")
            else:
                self._pi_records(check.issue.unique_results(), run)
            return dict(check.cursor)

        return self._run(FeedName.PUBLIC_INSPECTION, self.fr.http, body)

    def _pi_records(self, records: list[PiDocumentRecord], run: _Run) -> None:
        bis = [record for record in records if record.is_bis]
        run.seen += len(bis)
        with self.sessions() as session:
            known = store.known_on_feed(session, [r.document_number for r in bis], FeedName.PUBLIC_INSPECTION)
        for record in bis:
            if record.document_number in known:
                continue
            document = record.to_document()
            classification = classify(document, subjects=record.subjects)
            outcome = None
            if classification.is_entity_list:  # the PI text already names the entities: extract early
                text, problem = self._pi_text(record)
                outcome = extract_listing_actions(
                    xml=None,
                    text=text,
                    document_number=record.document_number,
                    source=FeedName.PUBLIC_INSPECTION,
                    xml_problem="not published yet",
                    text_problem=problem,
                    final=False,
                )
                if text is not None:
                    outcome = replace(outcome, text=text)
            if record.withdrawn:
                run.notes.append(f"{record.document_number} was withdrawn from public inspection")
            self._save(
                run, document, FeedName.PUBLIC_INSPECTION, classification, record.model_dump(mode="json"), outcome
            )

    def _pi_text(self, record: PiDocumentRecord) -> tuple[str | None, str | None]:
        return filing_text(record, self._fetch, max_bytes=self.settings.max_xml_bytes)

    # --- Consolidated Screening List ------------------------------------------------------------------------------

    def poll_csl(self) -> PollResult:
        if self.csl is None:
            raise MonitorError("no Consolidated Screening List client configured")
        csl = self.csl

        def body(run: _Run) -> dict[str, Any]:
            now = self.clock.now()
            with self.sessions() as session:
                cursor = store.read_feed_state(session, FeedName.CSL).cursor
            fetched = csl.fetch(etag=cursor.get("etag"), last_modified=cursor.get("last_modified"))
            if fetched.not_modified or (fetched.sha256 and fetched.sha256 == cursor.get("sha256")):
                run.notes.append("Consolidated Screening List unchanged")
                return {**cursor, "checked_at": now.isoformat()}
            run.seen = len(fetched.records)
            with self.sessions.begin() as session:
                baseline = not csl_store.has_snapshot(session)
                diff = diff_snapshot(csl_store.active_hashes(session), fetched.records)
                csl_store.apply_snapshot(session, diff, now)
            run.diff = diff
            if baseline:
                run.notes.append(f"first snapshot stored as the baseline ({len(diff.new)} rows); no listings created")
            else:
                self._csl_listings(diff, now, run)
            return {
                "etag": fetched.etag,
                "last_modified": fetched.last_modified,
                "sha256": fetched.sha256,
                "url": fetched.url,
                "rows": len(fetched.records),
                "snapshot_at": now.isoformat(),
            }

        return self._run(FeedName.CSL, csl.http, body)

    def _csl_listings(self, diff: CslDiff, now: datetime, run: _Run) -> None:
        names_since = now - timedelta(days=self.settings.csl_new_listing_max_age_days + 30)
        for record in csl_store.entity_list_records(diff.new):
            if not csl_store.is_recent_listing(record, now, self.settings.csl_new_listing_max_age_days):
                run.notes.append(f"CSL row {record.name!r} is new to us but listed since {record.start_date}; skipped")
                continue
            with self.sessions.begin() as session:
                if csl_store.covered_by_rule(session, record, names_since=names_since):
                    continue
                saved = csl_store.save_csl_listing(session, record, now)
                run.arrivals.append(_arrival(session, saved, FeedName.CSL, now))

    # --- shared ----------------------------------------------------------------------------------------------------

    def _save(
        self,
        run: _Run,
        document: Any,
        feed: FeedName,
        classification: Any,
        raw: dict[str, Any],
        outcome: ExtractionOutcome | None,
    ) -> None:
        try:
            with self.sessions.begin() as session:
                saved = store.save_document(
                    session, document, feed=feed, seen_at=self.clock.now(), classification=classification, raw=raw
                )
                changed = False
                if outcome is not None and saved.is_entity_list:
                    changed = store.save_extraction(session, saved.id, outcome)
                if saved.newly_on_feed or changed:
                    run.arrivals.append(_arrival(session, saved, feed, self.clock.now()))
        except MonitorError as exc:  # never die on one bad document; the next poll sees it again
            log.error("document_store_failed", document=document.document_number, feed=feed.value, error=str(exc))
            run.notes.append(f"{document.document_number}: not stored: {exc}")

    def _run(self, feed: FeedName, http: Any, body: Callable[[_Run], dict[str, Any]]) -> PollResult:
        """Run one poll body and record the feed's health: success with its new cursor, or the failure."""
        run = _Run(feed)
        before = http.requests
        started = self.clock.now()
        try:
            cursor = body(run)
        except MonitorError as exc:
            with self.sessions.begin() as session:
                failures = store.record_poll_failure(session, feed, started, str(exc))
            log.error("feed_poll_failed", feed=feed.value, error=str(exc), consecutive_failures=failures)
            raise
        with self.sessions.begin() as session:
            store.record_poll_success(session, feed, started, cursor)
        result = PollResult(
            feed=feed,
            requests=http.requests - before,
            seen=run.seen,
            arrivals=tuple(run.arrivals),
            csl_diff=run.diff,
            notes=tuple(run.notes),
        )
        log.info(
            "feed_polled",
            feed=feed.value,
            requests=result.requests,
            seen=result.seen,
            arrivals=len(result.arrivals),
            entity_list=sum(a.is_entity_list for a in result.arrivals),
        )
        return result


def _arrival(session: Session, saved: store.SavedDocument, feed: FeedName, now: datetime) -> Arrival:
    """The arrival of a stored document; an Entity List one is marked due for the pipeline in the same transaction,
    so it is finished later (a catch-up on any replica) if the pipeline step after this commit never completes."""
    from monitor.db.tables.documents import Document

    row = session.get(Document, saved.id, populate_existing=True)
    assert row is not None
    if row.is_entity_list:
        store.mark_pipeline_due(session, saved.id, now)
    return Arrival(
        document_id=saved.id,
        document_number=saved.document_number,
        feed=feed,
        title=row.title,
        html_url=row.html_url,
        created=saved.created,
        is_entity_list=row.is_entity_list,
        classification=row.classification or "",
        parse_status=ParseStatus(row.parse_status),
        parse_error=row.parse_error,
        listing_actions=store.load_listing_actions(session, saved.id),
    )
