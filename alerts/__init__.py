"""Alert delivery: the transactional outbox's delivery side, and the Slack, console and webhook sinks.

The write side (typed alerts, dedup keys, routing, ``enqueue``) is ``monitor.outbox``, so the pipeline can write
alerts in the same transaction as their facts without importing this package. Here:

- ``alerts.delivery.DeliveryWorker(sessions, sinks, settings=, clock=).run_once()``: one delivery pass.
- ``alerts.sink``: the ``Sink`` protocol, what a sink is handed (``Outgoing``) and what it answers (``Receipt``).
- ``alerts.slack.SlackSink``, ``alerts.console.ConsoleSink``, ``alerts.webhook.WebhookSink``: the sinks.
- ``alerts.blocks`` (Block Kit within Slack's limits), ``alerts.chart`` (AR/CAR PNG), ``alerts.text`` (wording).
- ``alerts.admin``: ``list_deliveries`` and ``retry_delivery`` for ``monitor alerts``.
"""
