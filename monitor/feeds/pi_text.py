"""The text of a public-inspection filing: its raw text, else the text of its PDF.

The Federal Register's PI ``raw_text_url`` is pdftotext of the PI PDF in reading order; some filings have none,
or an empty one, and then the PDF is all there is. The PDF is read under the same size limit as a rule's XML and
``pdf_text``'s time and page limits; a hostile or broken PDF is a problem reported with the document, which still
alerts with its title and link.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import FeedParseError
from monitor.feeds.pdf_text import PdfLimits, pdf_to_text
from monitor.feeds.records import PiDocumentRecord
from monitor.logs import get_logger

log = get_logger(__name__)

# GET a URL: (body, None) or (None, why it failed); the poller's fetch, which never raises.
Fetch = Callable[[str | None], tuple[bytes | None, str | None]]


def filing_text(record: PiDocumentRecord, fetch: Fetch, *, max_bytes: int) -> tuple[str | None, str | None]:
    """(text, None), or (None, why there is no text), for one filing."""
    raw, problem = fetch(record.raw_text_url)
    text = raw.decode("utf-8", errors="replace") if raw is not None else None
    if text is not None and text.strip():
        return text, None
    why = problem if text is None else "raw text is empty"
    if not record.pdf_url:
        return None, f"{why}; no PDF published"
    data, pdf_problem = fetch(record.pdf_url)
    if data is None:
        return None, f"{why}; PDF: {pdf_problem}"
    try:
        text = pdf_to_text(data, document_number=record.document_number, limits=PdfLimits(max_bytes=max_bytes))
    except FeedParseError as exc:
        log.warning("pi_pdf_refused", document=record.document_number, url=record.pdf_url, error=str(exc))
        return None, f"{why}; PDF: {exc}"
    log.info("pi_pdf_read", document=record.document_number, url=record.pdf_url, bytes=len(data), chars=len(text))
    return text, None
