"""Which BIS documents are Entity List actions, on the real BIS documents and the 2019 rule."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.feeds.classify import classify
from monitor.feeds.records import FrDocumentRecord, PiIssue, filed_at_from_pdf_url, is_placeholder
from monitor.models import FeedName, RegulatoryDocument
from tests.feeds.conftest import FEEDS, RULE_2019, at, load_json

EXPECTED_BIS = {
    "2026-20058": False,  # OMB information collection notice
    "2026-19927": False,  # temporary denial order
    "2026-19537": False,  # polysilicon rule
    "2026-17231": True,  # Revisions to the Entity List
    "2026-17230": True,  # Removal From the Entity List
    "C1-2026-16628": False,  # correction, but of the drone rule
    "2026-16628": False,
}


def test_real_bis_documents() -> None:
    for item in load_json(FEEDS / "fr_api_bis_documents_2026_agency_subset.json"):
        record = FrDocumentRecord.model_validate(item)
        result = classify(record.to_document())
        assert result.is_bis, item["document_number"]
        assert result.is_entity_list is EXPECTED_BIS[record.document_number], (record.document_number, result)
    removal = classify(
        FrDocumentRecord.model_validate(
            load_json(FEEDS / "fr_api_bis_documents_2026_agency_subset.json")[4]
        ).to_document()
    )
    assert removal.reason == "BIS Entity List action: title names the Entity List ('Removal From the Entity List')"


def test_2019_documents_and_public_inspection() -> None:
    search = load_json(RULE_2019 / "documents_search.json")
    for item in search["results"]:
        assert classify(FrDocumentRecord.model_validate(item).to_document()).is_entity_list
    (pi,) = PiIssue.model_validate(load_json(RULE_2019 / "public_inspection_2019-10-07.json")).unique_results()
    assert classify(pi.to_document(), subjects=pi.subjects).is_entity_list


def test_non_bis_and_other_cases() -> None:
    for item in load_json(FEEDS / "fr_api_documents_search_default_fields_2026-10-02_trimmed.json")["results"]:
        result = classify(FrDocumentRecord.model_validate(item).to_document())
        assert not result.is_bis
        assert not result.is_entity_list

    def bis(**fields: object) -> RegulatoryDocument:
        base: dict[str, object] = {
            "document_number": "2030-00001",
            "source": FeedName.DOCUMENTS,
            "title": "x",
            "agencies": ("industry-and-security-bureau",),
        }
        return RegulatoryDocument.model_validate({**base, **fields})

    proposed = classify(bis(title="Proposed Revisions to the Entity List", document_type="Proposed Rule"))
    assert proposed.is_bis
    assert not proposed.is_entity_list
    correction = classify(bis(document_number="C1-2030-00001", title="Additions to the Entity List; Correction"))
    assert correction.is_entity_list
    assert "correction to an Entity List rule" in correction.reason
    buried = classify(
        bis(title="Export Controls on Semiconductor Items", abstract="This rule adds 36 entities to the Entity List.")
    )
    assert buried.is_entity_list
    assert "abstract" in buried.reason
    modification = classify(bis(title="Supercomputer and Semiconductor End Use; Entity List Modification"))
    assert modification.is_entity_list
    raw_only_agency = FrDocumentRecord.model_validate(
        {"document_number": "2030-2", "title": "Additions to the Entity List",
         "agencies": [{"raw_name": "Bureau of Industry and Security"}]}
    )  # fmt: skip
    assert raw_only_agency.is_bis
    assert classify(raw_only_agency.to_document()).is_entity_list


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://public-inspection.federalregister.gov/2019-22210.pdf?1570479300", "2019-10-07T16:15:00-04:00"),
        ("https://public-inspection.federalregister.gov/2025-05887.pdf?1743770708", "2025-04-04T08:45:08-04:00"),
        ("https://public-inspection.federalregister.gov/2019-22210.pdf", None),
        (None, None),
    ],
)
def test_filing_time_from_the_pdf_epoch(url: str | None, expected: str | None) -> None:
    assert filed_at_from_pdf_url(url) == (at(expected) if expected else None)


@pytest.mark.parametrize(
    ("epoch", "published", "expected"),
    [
        ("1570479300", date(2019, 10, 9), "2019-10-07T16:15:00-04:00"),  # real: two days before publication
        ("1743770708", date(2025, 4, 7), "2025-04-04T08:45:08-04:00"),  # real: three days before
        ("1420070400", date(2019, 10, 9), None),  # 2015-01-01: a stale cache-buster, not a filing time
        ("1569355200", date(2019, 10, 9), None),  # 2019-09-24 16:00 ET: 14 days and 14 hours before 06:00 ET
        ("1569441600", date(2019, 10, 9), "2019-09-25T16:00:00-04:00"),  # 13 days and 14 hours before: believed
        ("1570615200", date(2019, 10, 9), "2019-10-09T06:00:00-04:00"),  # the moment the issue went online
        ("1570618800", date(2019, 10, 9), None),  # 07:00 ET on publication day: after the issue went online
    ],
)
def test_a_pdf_epoch_is_believed_only_shortly_before_publication(
    epoch: str, published: date, expected: str | None
) -> None:
    url = f"https://public-inspection.federalregister.gov/2019-22210.pdf?{epoch}"
    assert filed_at_from_pdf_url(url, published=published) == (at(expected) if expected else None)


def test_placeholders() -> None:
    assert is_placeholder("84 FR [INSERT FR PAGE NUMBER], 10/9/19.")
    assert is_placeholder("This rule is effective [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]")
    assert not is_placeholder("84 FR 54005, 10/9/19.")
    assert not is_placeholder(None)
