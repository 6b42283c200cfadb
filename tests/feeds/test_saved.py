"""The saved-responses transport: the real clients replay the 2019 directory."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from monitor.errors import ConfigError, DocumentNotFound
from monitor.feeds.saved import SavedResponsesTransport, route
from monitor.feeds.wiring import build_clients, transport_for
from tests.feeds.conftest import RULE_2019, fast_settings


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://x/api/v1/documents.json?order=newest", "documents_search.json"),
        ("https://x/api/v1/documents?page=3&search_after_cursor=abc", "documents_search_page3.json"),
        ("https://x/api/v1/documents/2019-22210.json", "document_2019-22210.json"),
        ("https://x/api/v1/public-inspection-documents/current.json", "public_inspection_current.json"),
        (
            "https://x/api/v1/public-inspection-documents.json?conditions%5Bavailable_on%5D=2019-10-07",
            "public_inspection_2019-10-07.json",
        ),
        ("https://x/documents/full_text/xml/2019/10/09/2019-22210.xml", "2019-22210.xml"),
        ("https://x/documents/full_text/text/2019/10/09/2019-22210.txt", "2019-22210.txt"),
        ("https://x/public-inspection/raw_text/201/922/210.txt", "public_inspection_2019-22210.txt"),
        ("https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json", "consolidated.json"),
    ],
)
def test_routes(url: str, name: str) -> None:
    assert route(httpx.URL(url))[0] == name


def test_the_real_client_replays_the_2019_directory() -> None:
    clients = build_clients(fast_settings(), source=f"dir:{RULE_2019}")
    fr = clients.federal_register
    pages = list(fr.search_pages(fr.search_params()))
    assert [r.document_number for r in pages[0].results] == ["2019-22210", "2019-13245"]
    record = fr.document("2019-22210")
    assert record.full_text_xml_url is not None
    assert fr.full_text(record.full_text_xml_url).startswith(b'<?xml version="1.0"')
    assert fr.public_inspection_day(date(2019, 10, 8)).unique_results()[0].document_number == "2019-22210"
    assert fr.public_inspection_day(date(2019, 10, 12)).unique_results() == []  # no file: no issue that day
    with pytest.raises(DocumentNotFound, match=r"not saved: document_2019-13245\.json"):
        fr.document("2019-13245")
    clients.close()


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        transport_for(f"dir:{tmp_path / 'nope'}")
    assert transport_for(None) is None
    assert isinstance(transport_for(str(RULE_2019)), SavedResponsesTransport)
