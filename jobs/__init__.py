"""Scheduled jobs: APScheduler wiring around thin jobs that call monitor.pipeline."""
