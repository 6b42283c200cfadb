"""A filing's text at public inspection: raw text first, else its PDF, and a refused PDF is a clear problem.

Inputs: the PDF is RECONSTRUCTED (tests.feeds.renderings draws the 2019 XML's table as a ruled grid with fpdf2);
the refused ones are SYNTHETIC (bytes that are no PDF, a truncated PDF).
"""

from __future__ import annotations

from functools import cache

from monitor.feeds.extraction import extract_listing_actions
from monitor.feeds.pi_text import filing_text
from monitor.feeds.records import PiDocumentRecord
from tests.feeds import renderings as r
from tests.feeds.conftest import RULE_2019

RECORD = PiDocumentRecord(
    document_number="2019-22210",
    raw_text_url="https://example.test/2019-22210.txt",
    pdf_url="https://example.test/2019-22210.pdf",
)


@cache
def the_pdf() -> bytes:
    return r.pi_pdf(r.as_public_inspection(r.load_rule(RULE_2019 / "2019-22210.xml")))


def serving(files: dict[str, bytes | None]):  # type: ignore[no-untyped-def]
    asked: list[str | None] = []

    def fetch(url: str | None) -> tuple[bytes | None, str | None]:
        asked.append(url)
        body = files.get(url or "")
        return (body, None) if body is not None else (None, "404 Not Found")

    return fetch, asked


def test_raw_text_is_read_and_the_pdf_left_alone() -> None:
    fetch, asked = serving({RECORD.raw_text_url or "": b"Entity List text"})
    assert filing_text(RECORD, fetch, max_bytes=1 << 20) == ("Entity List text", None)
    assert asked == [RECORD.raw_text_url]


def test_an_empty_raw_text_falls_back_to_the_pdf_whose_table_names_the_entities() -> None:
    fetch, asked = serving({RECORD.raw_text_url or "": b"  \n", RECORD.pdf_url or "": the_pdf()})
    text, problem = filing_text(RECORD, fetch, max_bytes=32 << 20)
    assert problem is None
    assert text is not None
    assert asked == [RECORD.raw_text_url, RECORD.pdf_url]
    outcome = extract_listing_actions(xml=None, text=text, document_number=RECORD.document_number, final=False)
    names = {action.entity_name for action in outcome.actions}
    assert any("Hikvision" in name for name in names), names


def test_a_broken_or_oversized_pdf_is_a_problem_naming_why() -> None:
    fetch, _ = serving({RECORD.pdf_url or "": b"<html>not a pdf</html>"})
    text, problem = filing_text(RECORD, fetch, max_bytes=1 << 20)
    assert text is None
    assert problem is not None
    assert "not a PDF" in problem
    assert "404" in problem
    fetch, _ = serving({RECORD.pdf_url or "": the_pdf()})
    text, problem = filing_text(RECORD, fetch, max_bytes=1024)
    assert text is None
    assert problem is not None
    assert "limit" in problem


def test_no_pdf_url_says_so() -> None:
    fetch, _ = serving({})
    text, problem = filing_text(RECORD.model_copy(update={"pdf_url": None}), fetch, max_bytes=1 << 20)
    assert text is None
    assert problem == "404 Not Found; no PDF published"
