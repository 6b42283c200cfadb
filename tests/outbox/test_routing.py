"""Routing decided at enqueue time: which sinks, which securities each, and what mutes hide."""

from __future__ import annotations

from monitor.config import Settings
from monitor.models import AlertStage, ParseStatus, Relation
from monitor.outbox import (
    Routing,
    apply_routing,
    configured_sinks,
    route,
)
from tests.fakes.alert_samples import detected, follow_up
from tests.outbox.samples import sink_settings


def test_configured_sinks_follow_thesink_settings() -> None:
    assert configured_sinks(Settings()) == ("console",)
    assert configured_sinks(sink_settings()) == ("slack", "webhook")
    assert configured_sinks(sink_settings(routes={"console": {}})) == ("slack", "webhook", "console")


def test_routes_filter_securities_per_sink_by_relation_and_score() -> None:
    alert = detected(1)
    settings = sink_settings(routes={"slack": {"relations": ["direct"], "min_score": 0.9}}).alerts
    slack = route(alert, "slack", settings)
    assert slack is not None
    assert slack.symbols == ("002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ")
    assert route(alert, "webhook", settings) == Routing()  # no route: everything
    view = apply_routing(alert, slack)
    assert {s.relation for s in view.securities} == {Relation.DIRECT}  # type: ignore[union-attr]
    assert len(view.entities) == 28  # type: ignore[union-attr]


def test_mutes_drop_symbols_and_entities_and_a_rule_only_about_muted_names() -> None:
    alert = detected(1)
    settings = sink_settings(mute_symbols=["nvda"], mute_entities=["  zhejiang DAHUA technology co., ltd. "]).alerts
    decision = route(alert, "slack", settings)
    assert decision is not None
    assert decision.symbols is not None
    assert "NVDA" not in decision.symbols
    assert not {"002236.SZ", "STX", "WDC"} & set(decision.symbols)  # brought in by the muted entity
    assert decision.hidden_entities == ("Zhejiang Dahua Technology Co., Ltd.",)
    view = apply_routing(alert, decision)
    assert "Zhejiang Dahua Technology Co., Ltd." not in {e.name for e in view.entities}  # type: ignore[union-attr]

    only_dahua = detected(1, n_entities=2, n_securities=0).model_copy(update={"entities": alert.entities[1:2]})
    assert route(only_dahua, "slack", settings) is None
    everything_filtered = sink_settings(routes={"slack": {"min_score": 0.99}}).alerts
    assert route(alert, "slack", everything_filtered) is None


def test_an_unparsed_rule_still_routes_everywhere() -> None:
    alert = detected(1, n_entities=0, n_securities=0).model_copy(
        update={"parse_status": ParseStatus.FAILED, "parse_error": "GPOTABLE missing"}
    )
    settings = sink_settings(routes={"slack": {"relations": ["direct"], "min_score": 0.95}}).alerts
    assert route(alert, "slack", settings) == Routing()


def test_follow_up_routing_keeps_group_series_and_routed_symbols() -> None:
    alert = follow_up(1, AlertStage.DAY1)
    decision = route(alert, "slack", sink_settings(routes={"slack": {"relations": ["supplier"]}}).alerts)
    assert decision is not None
    view = apply_routing(alert, decision)
    assert {s.symbol for s in view.securities} == {"AMBA", "NVDA", "STX", "WDC"}  # type: ignore[union-attr]
    assert [p.label for p in view.paths] == ["all (CAAR)"]  # type: ignore[union-attr]
