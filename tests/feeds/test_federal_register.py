"""The Federal Register client against the real recorded responses (served by httpx.MockTransport)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from monitor.errors import FeedUnavailable
from monitor.feeds.federal_register import FederalRegisterClient
from monitor.feeds.http import FeedHttp, build_http_client
from monitor.feeds.records import FrSearchPage
from tests.feeds.conftest import FEEDS, RULE_2019, Sleeps, at, fast_settings, load_json

BASE = "https://proxy.test/fr/api/v1"


def client_for(handler: httpx.MockTransport) -> FederalRegisterClient:
    settings = fast_settings(federal_register_url=BASE)
    http = FeedHttp(build_http_client(settings, handler), settings.network, feed="fr", sleep=Sleeps())
    counter = iter(range(1000))
    return FederalRegisterClient(http, settings.federal_register_url, cache_buster=lambda: f"cb{next(counter)}")


def test_search_follows_next_page_url_rebased_onto_our_base_url() -> None:
    page1 = load_json(FEEDS / "fr_api_documents_search_fields_2026-10-02_trimmed.json")
    empty = {"count": 0, "description": "All Documents"}  # the real zero-hit shape: no results, no total_pages
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=page1 if len(seen) == 1 else empty)

    fr = client_for(httpx.MockTransport(handler))
    pages = list(fr.search_pages(fr.search_params(since=date(2026, 9, 1), per_page=20)))
    assert [len(p.results) for p in pages] == [6, 0]
    first, second = seen
    assert str(first.url).startswith(BASE + "/documents.json?")
    assert first.url.params.get_list("conditions[agencies][]") == ["industry-and-security-bureau"]
    assert first.url.params["order"] == "newest"
    assert first.url.params["per_page"] == "20"
    assert first.url.params["conditions[publication_date][gte]"] == "2026-09-01"
    assert "full_text_xml_url" in first.url.params.get_list("fields[]")
    assert second.url.host == "proxy.test"
    assert second.url.path == "/fr/api/v1/documents.json"
    assert second.url.params["page"] == "2"
    assert second.url.params["search_after_cursor"].startswith("WzE3")
    assert (first.url.params["_"], second.url.params["_"]) == ("cb0", "cb1")  # a fresh cache-buster each time


def test_zero_hits_have_no_results_key() -> None:
    page = FrSearchPage.model_validate({"count": 0, "description": "Documents "})
    assert page.results == []
    assert page.total_pages is None
    assert page.next_page_url is None


def test_pagination_stops_when_the_api_repeats_itself() -> None:
    page = load_json(FEEDS / "fr_api_documents_search_default_fields_2026-10-02_trimmed.json")
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=page)  # page 2 silently reset to page 1

    fr = client_for(httpx.MockTransport(handler))
    assert len(list(fr.search_pages(fr.search_params()))) == 1
    assert len(calls) == 2


def test_page_numbers_past_50_without_a_cursor_are_not_requested() -> None:
    page = load_json(FEEDS / "fr_api_documents_search_default_fields_2026-10-02_trimmed.json")
    page["next_page_url"] = "https://www.federalregister.gov/api/v1/documents?page=51&per_page=20"
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=page)

    fr = client_for(httpx.MockTransport(handler))
    assert len(list(fr.search_pages(fr.search_params()))) == 1
    assert len(calls) == 1


def test_document_show_record_and_its_signal_times() -> None:
    payload = load_json(RULE_2019 / "document_2019-22210.json")
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json=payload)))
    record = fr.document("2019-22210")
    document = record.to_document()
    assert record.is_bis
    assert document.cfr_parts == ("15 CFR 744",)
    assert document.agencies == ("commerce-department", "industry-and-security-bureau")
    assert (document.citation, document.start_page, document.end_page) == ("84 FR 54002", 54002, 54009)
    assert document.full_text_xml_url
    assert document.full_text_xml_url.endswith("/2019-22210.xml")
    assert document.filed_at == at("2019-10-07T16:15:00-04:00")  # from public_inspection_pdf_url?1570479300
    assert document.publication_date == document.effective_on == date(2019, 10, 9)


def test_other_documents_show_file_parses() -> None:
    payload = load_json(FEEDS / "fr_api_document_show_2025-05887.json")
    record = client_for(httpx.MockTransport(lambda r: httpx.Response(200, json=payload))).document("2025-05887")
    assert not record.is_bis
    assert record.to_document().filed_at is not None


def test_public_inspection_current_quirks() -> None:
    payload = load_json(FEEDS / "fr_api_public_inspection_current_2026-10-02_trimmed.json")
    payload["results"].append(payload["results"][1])  # a special filing reappearing: deduplicated
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json=payload)))
    issue = fr.public_inspection_current()
    records = issue.unique_results()
    assert len(records) == 5
    withdrawn = records[0]
    assert withdrawn.filed_at is None
    assert withdrawn.publication_date is None
    assert withdrawn.withdrawn
    assert withdrawn.to_document().title == "Meetings; Sunshine Act"  # trailing spaces gone
    noaa = records[2]
    assert noaa.filed_at == at("2026-10-01T20:15:00+00:00")
    assert noaa.filing_type == "special"
    assert records[3].filing_type == "regular"
    assert records[3].agencies[0].parent_id == 54
    assert not any(record.is_bis for record in records)
    assert issue.cursor["special_filings_updated_at"] == "2026-10-02T15:15:00+00:00"


def test_public_inspection_day_asks_for_that_day() -> None:
    payload = load_json(RULE_2019 / "public_inspection_2019-10-08.json")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=payload)

    issue = client_for(httpx.MockTransport(handler)).public_inspection_day(date(2019, 10, 8))
    assert seen[0].url.params["conditions[available_on]"] == "2019-10-08"
    assert issue.special_filings_updated_at is None
    (record,) = issue.unique_results()
    assert record.is_bis
    assert record.title == "Addition of Certain Entities to the Entity List  "
    assert "Addition of Certain Entities to the Entity List" in record.subjects


def test_empty_issue_shape() -> None:
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json={"count": 0, "results": []})))
    issue = fr.public_inspection_current()
    assert issue.unique_results() == []
    assert issue.cursor == {
        "special_filings_updated_at": None,
        "regular_filings_updated_at": None,
    }


def test_garbage_is_a_feed_failure_not_a_crash() -> None:
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, text="<html>maintenance</html>")))
    with pytest.raises(FeedUnavailable, match="invalid JSON"):
        fr.public_inspection_current()
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json={"results": [{"title": 1}]})))
    with pytest.raises(FeedUnavailable, match=r"unexpected response shape at results\.0\.document_number"):
        fr.public_inspection_current()


def test_public_inspection_check_is_conditional_and_reads_records_only_when_the_stamps_moved() -> None:
    """The live API sends no validators today; a server (or proxy) that does gets them back, and a 304 is
    "unchanged". Unchanged stamps skip the records: a broken record is only an error once it must be read."""
    payload = load_json(FEEDS / "fr_api_public_inspection_current_2026-10-02_trimmed.json")
    stamps = {
        "special_filings_updated_at": "2026-10-02T15:15:00+00:00",
        "regular_filings_updated_at": "2026-10-02T12:45:00+00:00",
    }
    assert payload["regular_filings_updated_at"] == "2026-10-02T08:45:00.000-04:00"  # the stamps above, in UTC
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200, json=payload, headers={"ETag": '"v1"', "Last-Modified": "Fri, 02 Oct 2026 15:15:00 GMT"}
        )

    fr = client_for(httpx.MockTransport(handler))
    first = fr.public_inspection_check({})
    assert first.issue is not None
    assert len(first.issue.unique_results()) == 5
    assert first.cursor == {**stamps, "etag": '"v1"', "last_modified": "Fri, 02 Oct 2026 15:15:00 GMT"}
    again = fr.public_inspection_check(first.cursor)
    assert (again.issue, again.cursor) == (None, first.cursor)
    assert sent[1].headers["If-Modified-Since"] == "Fri, 02 Oct 2026 15:15:00 GMT"
    assert "_" in sent[1].url.params  # still cache-busted: the shared cache ignores no-store

    broken = {**payload, "results": [{"title": 1}]}
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json=broken)))
    unchanged = fr.public_inspection_check(stamps)
    assert (unchanged.issue, unchanged.cursor) == (None, stamps)
    with pytest.raises(FeedUnavailable, match=r"results\.0\.document_number"):
        fr.public_inspection_check({**stamps, "special_filings_updated_at": "2026-10-02T12:45:01+00:00"})
    with pytest.raises(FeedUnavailable, match=r"results\.0\.document_number"):
        fr.public_inspection_check(stamps, force=True)


def test_public_inspection_check_never_trusts_null_stamps() -> None:
    fr = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json={"count": 0, "results": []})))
    empty = {"special_filings_updated_at": None, "regular_filings_updated_at": None}
    check = fr.public_inspection_check(empty)
    assert check.issue is not None
    assert check.issue.unique_results() == []
    assert check.cursor == empty
