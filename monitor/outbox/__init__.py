"""The write side of the alert outbox: typed alerts, their dedup keys, routing, and ``enqueue``.

The pipeline writes an alert in the same transaction as the facts it reports, so nothing can be lost between "we
know" and "we will tell": ``enqueue`` only adds rows to the caller's session and never commits. The delivery worker
(``alerts.delivery``) sends them later; ``monitor/`` never imports it.

- ``messages``: ``DetectedAlert``, ``EntityListReply``, ``FollowUpAlert``, ``ReconcileAlert``, ``OperatorAlert``
  and their parts, ``parse_alert``, ``dedup_key``.
- ``routing``: ``configured_sinks``, ``route``, ``apply_routing`` (decided at enqueue time, stored per delivery).
- ``enqueue``: ``enqueue`` and its ``Enqueued`` answer.
"""

from monitor.outbox.enqueue import Enqueued, enqueue
from monitor.outbox.messages import (
    CARD_SECURITIES,
    FOLLOW_UP_STAGES,
    THREAD_STAGES,
    Alert,
    AnyAlert,
    ChartSeries,
    DetectedAlert,
    EntityChange,
    EntityLine,
    EntityListReply,
    FollowUpAlert,
    Headline,
    MatchedSecurity,
    OperatorAlert,
    PathPoint,
    ReconcileAlert,
    SecurityChange,
    StudyLine,
    TestStat,
    TextVersion,
    dedup_key,
    parse_alert,
)
from monitor.outbox.routing import Routing, apply_routing, configured_sinks, route

__all__ = [
    "CARD_SECURITIES",
    "FOLLOW_UP_STAGES",
    "THREAD_STAGES",
    "Alert",
    "AnyAlert",
    "ChartSeries",
    "DetectedAlert",
    "Enqueued",
    "EntityChange",
    "EntityLine",
    "EntityListReply",
    "FollowUpAlert",
    "Headline",
    "MatchedSecurity",
    "OperatorAlert",
    "PathPoint",
    "ReconcileAlert",
    "Routing",
    "SecurityChange",
    "StudyLine",
    "TestStat",
    "TextVersion",
    "apply_routing",
    "configured_sinks",
    "dedup_key",
    "enqueue",
    "parse_alert",
    "route",
]
