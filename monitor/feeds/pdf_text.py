"""Text of a public-inspection PDF, with its table's columns kept, read in a child process under hard limits.

When a PI record has no raw text (or an empty one) the PDF is all there is. A PDF is a program for a parser as
much as a document: a hostile or broken one can make pdfminer spin, recurse or allocate without end. So the
bytes are checked first (size, ``%PDF-`` header), then pdfplumber runs in a separate Python process with a wall
clock timeout, an address-space cap and a page cap; anything else it does wrong ends that process, not ours,
and comes back as one ``FeedParseError`` naming the document, so the rule still alerts with title and link.

Starting that process costs more than reading a typical rule (a Python interpreter and pdfplumber's imports: 0.7 s
idle, 3 s on a loaded 2-core box), so a daemon calls ``keep_reader_ready``: a child is then started ahead, imports
done, blocked on its stdin, and each PDF goes to the waiting child (used once, under the same limits) while the
next one starts in the background.

pdfplumber's ``layout=True`` keeps each column at its x position; ``x_density`` 4 (points per character, default
7.25) leaves the gutters of a five-column Entity List grid visible, which ``text_table`` reads like the Federal
Register's own fixed-width rendering.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
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
    child = _take_ready(limits.max_pages) or _spawn(limits.max_pages)
    try:
        out, err = child.communicate(input=data, timeout=limits.timeout_seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise FeedParseError(
            f"PI PDF text extraction took over {limits.timeout_seconds:g}s; refused", document_number=document_number
        ) from None
    finally:
        _replenish()
    if child.returncode != 0:
        reason = err.decode("utf-8", errors="replace").strip().splitlines()
        why = reason[-1] if reason else f"exit status {child.returncode}"
        raise FeedParseError(f"PI PDF cannot be read: {why[:300]}", document_number=document_number)
    text = out.decode("utf-8", errors="replace")
    if not text.strip():
        raise FeedParseError("PI PDF has no text layer (a scan?)", document_number=document_number)
    return text


def _spawn(max_pages: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and module, no shell, bytes on stdin
        [sys.executable, "-m", "monitor.feeds.pdf_text", str(max_pages)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limit_memory if sys.platform != "win32" else None,
    )


class _Ready:
    """The child started ahead (at most one), and whether to start another after each use."""

    lock = threading.Lock()
    child: subprocess.Popen[bytes] | None = None
    max_pages = DEFAULT_MAX_PAGES
    wanted = False


def keep_reader_ready(max_pages: int = DEFAULT_MAX_PAGES) -> None:
    """From now on keep one reader child started ahead, so a PDF is read without waiting for an interpreter."""
    with _Ready.lock:
        _Ready.wanted = True
        _Ready.max_pages = max_pages
        if _Ready.child is None or _Ready.child.poll() is not None:
            _Ready.child = _spawn(max_pages)


def ready_reader() -> int | None:
    """The process id of the reader child waiting for a PDF, if one is (for ``/metrics``-style checks and tests)."""
    with _Ready.lock:
        child = _Ready.child
        return child.pid if child is not None and child.poll() is None else None


def stop_reader() -> None:
    """No reader kept ready any more; the waiting one ends. (A daemon that exits without calling this leaves none
    behind: the child's stdin closes with the daemon and it exits on the empty read.)"""
    with _Ready.lock:
        _Ready.wanted = False
        child, _Ready.child = _Ready.child, None
    if child is not None:
        child.kill()
        child.communicate()


def _take_ready(max_pages: int) -> subprocess.Popen[bytes] | None:
    with _Ready.lock:
        child, _Ready.child = _Ready.child, None
    if child is None:
        return None
    if child.poll() is not None or max_pages != _Ready.max_pages:  # died, or started for other limits
        child.kill()
        child.communicate()
        return None
    return child


def _replenish() -> None:
    if _Ready.wanted:
        threading.Thread(target=keep_reader_ready, args=(_Ready.max_pages,), daemon=True).start()


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
        import pdfplumber  # noqa: F401 -- imported before the PDF arrives: a reader started ahead is ready

        text = _extract(sys.stdin.buffer.read(), max_pages)
    except Exception as exc:  # the child reports any failure as one line; the parent raises FeedParseError
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
