"""Writes the demo's public-inspection raw text from the shipped 2019 XML, as the Federal Register serves PI text.

``monitor demo`` detects the October 2019 rule at its filing from this file, so it must be what the real source
looks like, not prose written to please the parser: the rule with its PI placeholders, set as the typescript PDF
(``renderings.pi_pdf``: the table a ruled grid), extracted in reading order (pypdf) and cleaned the way the Federal
Register cleans PI raw text (``renderings.fr_pi_raw_text``), under the banner the Office of the Federal Register
stamps on every PI copy. The table cells come out one after another, so the demo takes the real table path.

Run ``python -m tests.feeds.make_demo_pi_text`` after changing the XML or the renderers; ``test_demo_pi_text``
fails while the committed file differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from tests.feeds import renderings as r

FEEDS = Path(__file__).resolve().parents[2] / "monitor" / "demo" / "data" / "feeds"
XML = FEEDS / "2019-22210.xml"
OUTPUT = FEEDS / "public_inspection_2019-22210.txt"
# The stamp at the head of the PI copy (as the 2019-22210 PI text reads, reference/feeds.md).
BANNER = (
    "This document is scheduled to be published in the\n"
    "Federal Register on 10/09/2019 and available online at\n"
    "https://federalregister.gov/d/2019-22210, and on govinfo.gov\n"
)


def demo_pi_text() -> str:
    model = r.as_public_inspection(r.load_rule(XML))
    return BANNER + r.fr_pi_raw_text(r.reading_order_pypdf(r.pi_pdf(model)))


def main() -> None:
    OUTPUT.write_text(demo_pi_text(), encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
