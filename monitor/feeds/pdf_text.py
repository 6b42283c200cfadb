"""Text of a public-inspection PDF, with its table's columns kept, read in a child process under hard limits.

When a PI record has no raw text (or an empty one) the PDF is all there is. A PDF is a program for a parser as
much as a document: a hostile or broken one can make pdfminer spin, recurse or allocate without end. So the
bytes are checked first (size, ``%PDF-`` header), then pdfplumber runs in a separate Python process with a wall
clock timeout, an address-space cap and a page cap; anything else it does wrong ends that process, not ours,
and comes back as one ``FeedParseError`` naming the document, so the rule still alerts with title and link.

pdfplumber's ``layout=True`` keeps each column at its x position; ``x_density`` 4 (points per character, default
7.25) leaves the gutters of a five-column Entity List grid visible, which ``text_table`` reads like the Federal
Register's own fixed-width rendering.
"""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass

from monitor.errors import FeedParseError

DEFAULT_MAX_PDF_BYTES = 32 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_PAGES = 500
MEMORY_LIMIT_BYTES = 2 * 1024 * 1024 * 1024
X_DENSITY = 4.0


@dataclass(frozen=True)
class PdfLimits:
    max_bytes: int = DEFAULT_MAX_PDF_BYTES
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_pages: int = DEFAULT_MAX_PAGES


def pdf_to_text(data: bytes, *, document_number: str | None = None, limits: PdfLimits | None = None) -> str:
    """The PDF's text, pages separated by form feeds; ``FeedParseError`` for anything hostile, broken or empty."""
    limits = limits or PdfLimits()
    if len(data) > limits.max_bytes:
        raise FeedParseError(
            f"PI PDF is {len(data):,} bytes, over the {limits.max_bytes:,}-byte limit", document_number=document_number
        )
    if not data.lstrip()[:5] == b"%PDF-":
        raise FeedParseError("PI PDF is not a PDF (no %PDF- header)", document_number=document_number)
    try:
        done = subprocess.run(  # noqa: S603 -- our own interpreter and module, no shell, bytes on stdin
            [sys.executable, "-m", "monitor.feeds.pdf_text", str(limits.max_pages)],
            input=data,
            capture_output=True,
            timeout=limits.timeout_seconds,
            check=False,
            preexec_fn=_limit_memory if sys.platform != "win32" else None,
        )
    except subprocess.TimeoutExpired:
        raise FeedParseError(
            f"PI PDF text extraction took over {limits.timeout_seconds:g}s; refused", document_number=document_number
        ) from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        why = reason[-1] if reason else f"exit status {done.returncode}"
        raise FeedParseError(f"PI PDF cannot be read: {why[:300]}", document_number=document_number)
    text = done.stdout.decode("utf-8", errors="replace")
    if not text.strip():
        raise FeedParseError("PI PDF has no text layer (a scan?)", document_number=document_number)
    return text


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _extract(data: bytes, max_pages: int) -> str:
    """Runs in the child: pdfplumber over at most ``max_pages`` pages."""
    import pdfplumber

    pages: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as document:
        if len(document.pages) > max_pages:
            raise ValueError(f"{len(document.pages)} pages, over the {max_pages}-page limit")
        for page in document.pages:
            pages.append(page.extract_text(layout=True, x_density=X_DENSITY) or "")
    return "\n\f".join(pages)


def main() -> int:
    """``python -m monitor.feeds.pdf_text MAX_PAGES`` < PDF: the child process's entry point."""
    max_pages = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MAX_PAGES
    try:
        text = _extract(sys.stdin.buffer.read(), max_pages)
    except Exception as exc:  # the child reports any failure as one line; the parent raises FeedParseError
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
