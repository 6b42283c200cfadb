"""Prometheus metrics for the daemon: what an operator graphs and alerts on.

One registry for the process (not prometheus-client's global one, so tests and embedded uses stay isolated). The
pipeline, the feed jobs and the outbox worker increment these; ``jobs.http_server`` serves them on /metrics.
Freshness gauges are timestamps; dashboards subtract them from ``time()``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

documents_seen = Counter(
    "monitor_documents_seen_total", "Documents returned by a feed poll, new or known.", ["feed"], registry=REGISTRY
)
documents_new = Counter(
    "monitor_documents_new_total", "Documents stored for the first time.", ["feed"], registry=REGISTRY
)
parse_failures = Counter(
    "monitor_parse_failures_total", "Entity List documents whose XML and text both failed to parse.", registry=REGISTRY
)
matches = Counter(
    "monitor_matches_total",
    "Matches stored, by relation and confirmation.",
    ["relation", "confirmed"],
    registry=REGISTRY,
)
poll_failures = Counter(
    "monitor_poll_failures_total", "Feed polls that failed after retries.", ["feed"], registry=REGISTRY
)
last_successful_poll = Gauge(
    "monitor_last_successful_poll_timestamp_seconds",
    "Unix time of the last successful poll.",
    ["feed"],
    registry=REGISTRY,
)
alerts_sent = Counter(
    "monitor_alerts_sent_total", "Alert deliveries accepted by a sink.", ["sink", "stage"], registry=REGISTRY
)
alerts_failed = Counter(
    "monitor_alerts_failed_total",
    "Alert delivery attempts that failed (will be retried).",
    ["sink"],
    registry=REGISTRY,
)
alerts_dead = Counter(
    "monitor_alerts_dead_total", "Alert deliveries given up after the maximum attempts.", ["sink"], registry=REGISTRY
)
outbox_pending = Gauge("monitor_outbox_pending", "Alert deliveries waiting to be sent.", ["sink"], registry=REGISTRY)
price_data_latest = Gauge(
    "monitor_price_data_latest_session_timestamp_seconds",
    "Unix time (midnight UTC) of the newest stored session across the studied symbols.",
    registry=REGISTRY,
)
prices_degraded = Gauge(
    "monitor_prices_degraded", "1 while the price source is rate-limited or failing.", registry=REGISTRY
)
job_runs = Counter(
    "monitor_job_runs_total",
    "Scheduled job runs by outcome: ok, skipped (lease held elsewhere), failed, abandoned (shutdown), "
    "overlapped or missed (scheduler ticks).",
    ["job", "outcome"],
    registry=REGISTRY,
)
job_duration = Histogram(
    "monitor_job_duration_seconds",
    "Wall time of scheduled jobs.",
    ["job"],
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
detection_latency = Histogram(
    "monitor_detection_latency_seconds",
    "From the filing time (public inspection filed_at, else first seen) to the detected alert accepted by a sink.",
    ["sink"],
    registry=REGISTRY,
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
)
