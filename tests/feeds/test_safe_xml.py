"""Hostile XML is refused with a clear message, quickly, without touching the network or local files."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import FeedParseError
from monitor.feeds.entity_list import extract_from_xml
from monitor.feeds.safe_xml import MAX_DEPTH, parse_untrusted_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<RULE><REGTEXT PART="744"><AMDPAR>&lol9;</AMDPAR></REGTEXT></RULE>"""

EXTERNAL_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<RULE><SUBJECT>&xxe;</SUBJECT></RULE>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE RULE SYSTEM "http://127.0.0.1:9/evil.dtd">
<RULE><SUBJECT>x</SUBJECT></RULE>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_FILE], ids=["billion-laughs", "external-entity"])
def test_entity_declarations_are_refused(payload: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"declares XML entities \(<!ENTITY>\); refused as untrusted input"):
        extract_from_xml(payload, document_number="2099-00001")


def test_an_external_dtd_is_never_fetched() -> None:
    root = parse_untrusted_xml(EXTERNAL_DTD)  # would hang or fail if it tried 127.0.0.1:9
    assert root.findtext("SUBJECT") == "x"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 5_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    payload = "<RULE>" + "<P>" * depth + "x" + "</P>" * depth + "</RULE>"
    with pytest.raises(FeedParseError, match=r"deep|depth|not well-formed"):
        parse_untrusted_xml(payload)


def test_size_limit_empty_and_malformed() -> None:
    with pytest.raises(FeedParseError, match="over the 1,024-byte limit"):
        parse_untrusted_xml(b"<RULE>" + b"x" * 2000 + b"</RULE>", max_bytes=1024)
    with pytest.raises(FeedParseError, match="is empty"):
        parse_untrusted_xml(b"  \n")
    with pytest.raises(FeedParseError, match="not well-formed XML"):
        parse_untrusted_xml(b"<RULE><P>unclosed</RULE>", what="rule XML")


@settings(max_examples=100, deadline=2000)
@given(
    prefix=st.sampled_from(["", "<?xml version='1.0'?>", "<!DOCTYPE RULE>", "<!DOCTYPE a [<!ELEMENT a ANY>]>"]),
    body=st.text(max_size=300),
)
def test_parser_only_ever_raises_feed_parse_error(prefix: str, body: str) -> None:
    try:
        parse_untrusted_xml(prefix + body)
        message = "parsed"
    except FeedParseError as exc:
        message = str(exc)
    assert message
