"""The Consolidated Screening List: the real CSV sample, JSON, conditional GET and the snapshot diff."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest

from monitor.errors import FeedUnavailable
from monitor.feeds.csl import CslClient, diff_snapshot, parse_csl, parse_csl_csv, split_multi
from monitor.feeds.http import FeedHttp, build_http_client
from tests.feeds.conftest import FEEDS, Handler, LocalServer, Recorded, Reply, Sleeps, fast_settings, json_reply

CSV = (FEEDS / "csl_us_consolidated_sample.csv").read_bytes()

# SYNTHETIC: no real CSL JSON row exists in data/feeds; this one restates the real CSV's Entity List row in the
# documented JSON shape (feeds.md §3), so both formats can be checked to agree.
JSON_EL_ROW = {
    "id": "99ed1b052fdb09695fae1ba87516d8a0882b0df04652e07aeb5ce7be",
    "source": "Entity List (EL) - Bureau of Industry and Security",
    "name": "China Electronics Technology Group Corporation 13th Research Institute (CETC 13)",
    "addresses": [
        {"address": "113 Hezuo Road", "city": "Shijiazhuang", "state": "Hebei", "postal_code": "", "country": "CN"}
    ],
    "alt_names": ["Hebei Semiconductor Research Institute", "HSRI", "and CETC Research Institute 13"],
    "federal_register_notice": "83 FR 37423; 87 FR 77505",
    "start_date": "2018-08-01",
    "type": None,
    "programs": [],
}


def test_real_csv_parses_by_header_name() -> None:
    records = parse_csl_csv(CSV)
    assert len(records) == 13
    (entity_list,) = [record for record in records if record.is_entity_list]
    assert entity_list.source_code == "EL"
    assert entity_list.alt_names[-1] == "CETC Research Institute 13"  # leading "and " stripped
    assert len(entity_list.alt_names) == 6
    assert len(entity_list.addresses) == 3
    assert entity_list.addresses[0] == "113 Hezuo Road, Shijiazhuang, Hebei, China"
    assert entity_list.countries == ("CN",)
    assert entity_list.citations == ("83 FR 37423", "87 FR 77505")
    assert entity_list.start_date == date(2018, 8, 1)
    assert {record.source_code for record in records} >= {"ISN", "UVL", "MEU", "PLC", "SDN", "DTC", "DPL", "SSI"}
    dpl = next(record for record in records if record.source_code == "DPL")
    assert dpl.citations == ("67 FR 56530", "67 FR 10890", "71 FR 38843")  # "F.R." spellings normalized


def test_column_order_does_not_matter() -> None:
    lines = CSV.decode().splitlines()
    import csv
    import io

    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    order = list(range(len(rows[0])))
    random.Random(3).shuffle(order)
    out = io.StringIO()
    csv.writer(out).writerows([[row[i] for i in order] for row in rows])
    assert [r.row_hash for r in parse_csl_csv(out.getvalue())] == [r.row_hash for r in parse_csl_csv(CSV)]


def test_json_shape_parses_to_the_same_record() -> None:
    (record,) = parse_csl(json.dumps({"results": [JSON_EL_ROW]}).encode())
    assert record.entry_id == JSON_EL_ROW["id"]
    assert record.is_entity_list
    assert record.alt_names == ("Hebei Semiconductor Research Institute", "HSRI", "CETC Research Institute 13")
    assert record.addresses == ("113 Hezuo Road, Shijiazhuang, Hebei, CN",)
    assert record.countries == ("CN",)


def test_bad_payloads_are_feed_failures() -> None:
    with pytest.raises(FeedUnavailable, match="not valid JSON"):
        parse_csl(b"{broken", url="x.json")
    with pytest.raises(FeedUnavailable, match="lacks the 'name'/'source' header"):
        parse_csl_csv(b"a,b\n1,2\n")


def test_split_multi() -> None:
    assert split_multi("A; B; and C") == ("A", "B", "C")
    assert split_multi("") == ()
    assert split_multi(None) == ()


def test_diff_new_changed_removed() -> None:
    records = parse_csl_csv(CSV)
    stored = {record.entry_id: record.row_hash for record in records[:10]}
    stored["gone"] = "x"
    changed = replace(records[0], name=records[0].name + " (renamed)")
    diff = diff_snapshot(stored, [changed, *records[1:]])
    assert [r.entry_id for r in diff.new] == [r.entry_id for r in records[10:]]
    assert diff.changed == (changed,)
    assert diff.removed == ("gone",)
    assert diff.unchanged == 9
    assert diff_snapshot({r.entry_id: r.row_hash for r in records}, records).empty


StartServer = Callable[[Handler], LocalServer]


def csl_client(url: str) -> CslClient:
    settings = fast_settings(csl_url=url)
    return CslClient(FeedHttp(build_http_client(settings), settings.network, feed="csl", sleep=Sleeps()), url)


def test_conditional_get_and_csv_fallback(local_server: StartServer) -> None:
    def handler(request: Recorded) -> Reply:
        if request.path.endswith(".json"):
            return json_reply({"message": "gone"}, 404)
        if request.headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return 200, {"Content-Type": "text/csv", "ETag": '"v1"', "Last-Modified": "Mon, 07 Oct 2019 20:00:00 GMT"}, CSV

    server = local_server(handler)
    client = csl_client(f"{server.url}/v1/consolidated.json")
    fetched = client.fetch()
    assert len(fetched.records) == 13
    assert fetched.url is not None
    assert fetched.url.endswith(".csv")
    assert fetched.etag == '"v1"'
    assert [r.path for r in server.requests] == ["/v1/consolidated.json", "/v1/consolidated.csv"]
    csv_only = csl_client(f"{server.url}/v1/consolidated.csv")
    assert csv_only.fetch(etag='"v1"').not_modified
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'


def test_everything_failing_is_unavailable(local_server: StartServer) -> None:
    server = local_server(lambda request: json_reply({"message": "nope"}, 404))
    with pytest.raises(FeedUnavailable, match="Consolidated Screening List unavailable"):
        csl_client(f"{server.url}/consolidated.json").fetch()
