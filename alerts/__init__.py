"""Alert delivery: the transactional outbox, and the Slack, console and webhook sinks."""
