"""``monitor extract`` and ``monitor poll`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from tests.feeds.conftest import FEEDS, RULE_2019, load_json
from tests.feeds.test_entity_list import FIELDS

pytestmark = pytest.mark.integration  # the command line end to end, on a database of its own


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_extract_json_reproduces_the_expected_entities(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "extract", str(RULE_2019 / "2019-22210.xml"), "--json")
    assert code == 0
    expected = load_json(RULE_2019 / "expected_entities.json")["entities"]
    got = json.loads(out)
    assert [{key: item[key] for key in ("name", "aliases", "country", "addresses", "action")} for item in got] == [
        {key: entity[key] for key in ("name", "aliases", "country", "addresses", "action")} for entity in expected
    ]
    assert all(set(item) == set(FIELDS) for item in got)


def test_extract_by_document_number_from_saved_responses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "extract", "2019-22210", "--from-dir", str(RULE_2019))
    assert code == 0
    assert "28 listing action(s)" in out
    assert "Hikvision" in out


def test_extract_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "extract", str(FEEDS / "fr_xml_rule_2016-08773_regtext_gpotable.xml"))
    assert code == 1
    assert err.startswith("monitor: error: fr_xml_rule_2016-08773_regtext_gpotable: rule XML has no Entity List")
    code, _, err = run(capsys, "extract", "not-a-thing")
    assert (code, err.strip()) == (
        2,
        "monitor: error: not-a-thing: neither a file nor a document number such as 2019-22210",
    )


def test_poll_replays_a_saved_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "poll", "--source", "fr", "--from-dir", str(RULE_2019), "--since", "2019-10-01", "--json"
    )
    assert code == 0
    (result,) = json.loads(out)
    assert result["feed"] == "fr"
    numbers = {arrival["document_number"]: arrival for arrival in result["arrivals"]}
    assert set(numbers) == {"2019-22210", "2019-13245"}
    assert numbers["2019-22210"]["parse_status"] == "parsed"
    assert len(numbers["2019-22210"]["listing_actions"]) == 28
    code, out, _ = run(capsys, "poll", "--source", "fr", "--from-dir", str(RULE_2019))
    assert code == 0
    assert out.startswith("# fr: 1 request(s), 2 seen, 0 new")  # piped: prose lines are comments beside the TSV


def test_poll_rejects_unknown_sources_and_dates(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "poll", "--source", "rss")[0] == 2
    code, _, err = run(capsys, "poll", "--since", "yesterday")
    assert code == 2
    assert "--since: expected a date such as 2019-10-07" in err
