"""The 2019 rule's 28 entities from every layout its text really comes in, through ``monitor extract --json``.

Inputs are rendered from the shipped XML (reconstructed, see its README) by ``renderings``: the Federal
Register's fixed-width text at three column widths, the PI typescript PDF (reportlab), its reading-order text
(pypdf, and the same cleaned as the Federal Register cleans PI raw text) and its layout-kept text (pdfplumber).
Expected values come from ``expected_entities.json``, never from the parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.errors import FeedParseError
from monitor.feeds.pdf_text import PdfLimits, pdf_to_text
from monitor.feeds.raw_text import extract_from_text
from monitor.feeds.text_rule import extract_from_rule_text
from tests.feeds import renderings as r
from tests.feeds.conftest import RULE_2019, load_json

EXPECTED: list[dict[str, Any]] = load_json(RULE_2019 / "expected_entities.json")["entities"]
MODEL = r.load_rule(RULE_2019 / "2019-22210.xml")
PI_MODEL = r.as_public_inspection(MODEL)


@dataclass(frozen=True)
class Recovery:
    names: int
    aliases: float
    actions: int
    destinations: int
    extra: tuple[str, ...]

    def assert_done(self, expected: list[dict[str, Any]] = EXPECTED) -> None:
        assert self.extra == ()
        assert self.names == len(expected)
        assert self.aliases >= 0.95
        assert self.actions == len(expected)
        assert self.destinations == len(expected)


def recovery(items: list[dict[str, Any]], expected: list[dict[str, Any]] = EXPECTED) -> Recovery:
    """Names exact, aliases as a share, actions and destinations exact: the issue's per-layout measure."""
    got = {item["name"]: item for item in items}
    found = [e for e in expected if e["name"] in got]
    alias_total = sum(len(e["aliases"]) for e in expected) or 1
    alias_hits = sum(len(set(e["aliases"]) & set(got[e["name"]]["aliases"])) for e in found)
    return Recovery(
        names=len(found),
        aliases=alias_hits / alias_total,
        actions=sum(got[e["name"]]["action"] == e["action"] for e in found),
        destinations=sum(got[e["name"]]["country_iso"] == e["country_iso"] for e in found),
        extra=tuple(sorted(set(got) - {e["name"] for e in expected})),
    )


def extract_cli(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict[str, Any]]:
    code = main(["extract", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    items: list[dict[str, Any]] = json.loads(captured.out)
    return items


@pytest.fixture(scope="module")
def pi_pdf() -> bytes:
    return r.pi_pdf(PI_MODEL)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, pi_pdf: bytes) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layouts")
    reading = r.reading_order_pypdf(pi_pdf)
    texts = {
        "fr_text_narrow.txt": r.fr_text(MODEL, widths=(12, 30, 14, 20, 16)),
        "fr_text_medium.txt": r.fr_text(MODEL),
        "fr_text_wide.txt": r.fr_text(MODEL, widths=(28, 40, 30, 36, 24), gutter=3),
        "fr_text_pi.txt": r.fr_text(PI_MODEL, widths=(14, 26, 16, 22, 20)),
        "pi_reading_order_pypdf.txt": reading,
        "pi_raw_text_as_fr_serves_it.txt": r.fr_pi_raw_text(reading),
        "pi_layout_kept_pdfplumber.txt": r.layout_kept(pi_pdf),
    }
    paths = {}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths[name] = folder / name
    (folder / "2019-22210_PI.pdf").write_bytes(pi_pdf)
    paths["pdf"] = folder / "2019-22210_PI.pdf"
    return paths


@pytest.mark.parametrize(
    "layout",
    [
        "fr_text_narrow.txt",
        "fr_text_medium.txt",
        "fr_text_wide.txt",
        "fr_text_pi.txt",
        "pi_reading_order_pypdf.txt",
        "pi_raw_text_as_fr_serves_it.txt",
        "pi_layout_kept_pdfplumber.txt",
        "pdf",
    ],
)
def test_each_layout_recovers_the_28_entities(
    layout: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    items = extract_cli(capsys, files[layout])
    recovery(items).assert_done()


def test_addresses_survive_a_page_break_inside_an_entry() -> None:
    text = r.fr_text(MODEL, break_inside=3)  # the third entry is cut by [[Page …]]
    table = text.split("Supplement No. 4 to Part 744--Entity List")[1]
    assert "[[Page 54006]]" in table.split("Bayingolin")[1].split("Bortala")[0]
    actions = {a.entity_name: a for a in extract_from_rule_text(text).actions}
    expected = next(e for e in EXPECTED if e["name"].startswith("Bayingolin"))
    assert list(actions[expected["name"]].addresses) == expected["addresses"]


def test_pi_placeholders_are_not_citations(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    for layout in ("fr_text_pi.txt", "pi_raw_text_as_fr_serves_it.txt"):
        items = extract_cli(capsys, files[layout])
        assert all(item["federal_register_citation"] is None for item in items)


def test_a_preamble_naming_no_entity_still_yields_the_table() -> None:
    model = r.without_named_preamble(PI_MODEL)
    for text in (r.fr_text(model), r.fr_pi_raw_text(r.reading_order_pypdf(r.pi_pdf(model)))):
        assert "Hikvision" not in text.split("Supplement No. 4 to Part 744")[0]
        with pytest.raises(FeedParseError):
            extract_from_text(text)  # the prose alone names nothing
        items = [_as_item(a) for a in extract_from_rule_text(text).actions]
        recovery(items).assert_done()


def test_a_table_mixing_additions_and_revisions() -> None:
    revised = ["Dahua Technology", "Sense Time"]
    expected = [{**e, "action": "revise" if e["name"] in revised else "add"} for e in EXPECTED]
    model = r.with_revisions(PI_MODEL, revised)
    for text in (r.fr_text(model), r.reading_order_pypdf(r.pi_pdf(model))):
        items = [_as_item(a) for a in extract_from_rule_text(text).actions]
        recovery(items, expected).assert_done(expected)


def test_hostile_or_broken_pdfs_are_refused_with_a_clear_error(pi_pdf: bytes) -> None:
    cases = {
        b"<html>bot wall</html>": "not a PDF",
        pi_pdf[: len(pi_pdf) // 3]: "cannot be read",
        b"%PDF-1.7\n" + b"0" * 2048: "cannot be read",
    }
    for data, message in cases.items():
        with pytest.raises(FeedParseError, match=message):
            pdf_to_text(data, document_number="2019-22210")
    with pytest.raises(FeedParseError, match="over the 1,000-byte limit"):
        pdf_to_text(pi_pdf, limits=PdfLimits(max_bytes=1000))
    with pytest.raises(FeedParseError, match="page limit"):
        pdf_to_text(pi_pdf, limits=PdfLimits(max_pages=2))
    with pytest.raises(FeedParseError, match="took over"):
        pdf_to_text(pi_pdf, limits=PdfLimits(timeout_seconds=0.05))


def _as_item(action: Any) -> dict[str, Any]:
    return {
        "name": action.entity_name,
        "aliases": list(action.aliases),
        "action": action.action.value,
        "country_iso": action.country_iso,
    }


def test_a_reader_started_ahead_reads_the_pdf_and_the_next_one_starts(pi_pdf: bytes) -> None:
    """The daemon's PDF reader: a child waiting with its imports done; used once, replaced, the same limits."""
    from monitor.feeds.pdf_text import keep_reader_ready, ready_reader, stop_reader
    from tests.e2e.harness import wait_for

    cold = pdf_to_text(pi_pdf, document_number="2019-22210")
    assert ready_reader() is None  # nothing kept ready unless asked
    keep_reader_ready()
    try:
        first = ready_reader()
        assert first is not None
        assert pdf_to_text(pi_pdf, document_number="2019-22210") == cold
        second = wait_for("the next reader", lambda: (pid := ready_reader()) not in (None, first) and pid, timeout=30)
        with pytest.raises(FeedParseError, match="took over"):
            pdf_to_text(pi_pdf, limits=PdfLimits(timeout_seconds=0.05))
        wait_for("a reader after the refusal", lambda: ready_reader() not in (None, second), timeout=30)
    finally:
        stop_reader()
    assert ready_reader() is None
