"""The demo's PI raw text is the renderers' output for the shipped XML, not a hand-edited file."""

from __future__ import annotations

from monitor.feeds.extraction import extract_text
from tests.feeds.make_demo_pi_text import OUTPUT, demo_pi_text


def test_the_committed_demo_pi_text_is_what_the_generator_writes() -> None:
    committed = OUTPUT.read_text(encoding="utf-8")
    assert committed == demo_pi_text(), "run `python -m tests.feeds.make_demo_pi_text` and commit its output"


def test_the_demo_detects_from_the_table_not_from_a_sentence_written_for_it() -> None:
    extraction = extract_text(OUTPUT.read_text(encoding="utf-8"), document_number="2019-22210")
    assert extraction.method != "text"  # the prose-sentence fallback is not what names the entities
    assert len(extraction.actions) == 28
    hikvision = next(a for a in extraction.actions if a.entity_name.startswith("Hangzhou Hikvision"))
    assert hikvision.aliases == ("Hikvision",)  # aliases only the table carries
