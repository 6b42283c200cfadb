"""The console sink: the same content as Slack, readable in a terminal, charts saved beside the data."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from alerts.console import ConsoleSink
from alerts.sink import Outgoing, RootMessage
from monitor.models import AlertStage, ParseStatus
from monitor.outbox import AnyAlert, OperatorAlert
from tests.fakes.alert_samples import FR_URL, PI_URL, detected, follow_up


def show(
    alert: AnyAlert, *, chart_dir: Path | None = None, root: RootMessage | None = None
) -> tuple[str, dict[str, str]]:
    buffer = io.StringIO()
    sink = ConsoleSink(Console(file=buffer, width=200, color_system=None), chart_dir=chart_dir)
    item = Outgoing(1, 1, alert.dedup_key, "console", alert, 1, False, datetime.now(UTC), root=root)
    receipt = sink.deliver(item, lambda done: None)
    return buffer.getvalue(), dict(receipt.detail)


def test_detected_alert_shows_the_rule_entities_and_matched_securities() -> None:
    out, _ = show(detected(4))
    for needle in (
        "Addition of Certain Entities to the Entity List: 8 listed securities hit",
        "28 entities (28 added), full list in the reply",
        "Addition of Certain Entities to the Entity List",
        "filed for public inspection 2019-10-07 16:15 ET (20:15 UTC) (special filing)",
        "by Industry and Security Bureau",
        "Hangzhou Hikvision Digital Technology Co., Ltd.",  # the entity that links 002415.SZ
        "002415.SZ",
        "XSHE",
        "Direct",
        "Suppliers",
        "¥31.20",
        "-9.9%",
        "-4.1% since the announcement (extended hours)",  # a US supplier's after-hours move
        "(to review)",  # a match in the review band
        "issuer alias 'Hikvision'",
        FR_URL,
        PI_URL,
    ):
        assert needle in out, needle


def test_a_rule_that_failed_to_parse_says_so() -> None:
    alert = detected(4, n_entities=0, n_securities=0).model_copy(
        update={"parse_status": ParseStatus.FAILED, "parse_error": "XML not available yet"}
    )
    out, _ = show(alert)
    assert "Entities could not be extracted (XML not available yet)" in out
    assert FR_URL in out


def test_follow_up_table_names_its_root_and_saves_the_chart(tmp_path: Path) -> None:
    root = RootMessage("event:4:g:all:detected", detected(4), None, None)
    out, detail = show(follow_up(4, AlertStage.DAY1), chart_dir=tmp_path / "charts", root=root)
    assert "Day +1 close: CAAR[0,+1] -3.1% (n=8)" in out
    assert "reply to event:4:g:all:detected" in out
    assert "BMP t -3.01 (p 0.003)" in out
    assert "CAR[0,+1]" in out
    assert "-10.89%" in out
    chart = Path(detail["chart"])
    assert chart.parent == tmp_path / "charts"
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert f"chart: {chart}" in out


def test_operator_alert_says_how_to_retry() -> None:
    alert = OperatorAlert(
        key="dead:slack:1",
        summary="alerts to slack are failing",
        detail="channel_not_found",
        failed_delivery_id=12,
        raised_at=datetime(2019, 10, 7, 21, tzinfo=UTC),
    )
    out, _ = show(alert)
    assert "Monitor: alerts to slack are failing" in out
    assert "monitor alerts retry 12" in out


def test_send_test_prints() -> None:
    buffer = io.StringIO()
    assert ConsoleSink(Console(file=buffer)).send_test("hello") == "printed to the terminal"
    assert "hello" in buffer.getvalue()
