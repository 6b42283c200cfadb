"""Scheduled jobs: APScheduler wiring around thin jobs that call monitor.pipeline, and the daemon's lifecycle.

``jobs/`` builds none of its parts: ``monitor.commands.compose`` (the composition root) hands the daemon its
pipelines, feed poller, delivery worker and Slack client factory, so ``jobs/`` never imports ``alerts/`` and runs
no SQL of its own.

- ``jobs.daemon.Daemon`` (built by ``monitor.commands.compose.daemon(context, clock=, report=)``): ``start()``
  (start-up checks, components), ``serve()`` (the schedule until SIGTERM/SIGINT), ``once()`` (every job once, for
  cron); what ``monitor run`` calls.
- ``jobs.scheduler``: the schedule declared from settings (``plan``, ``build_scheduler``, ``Waker``).
- ``jobs.tasks.DaemonTasks``: the job bodies (poll a feed → ``Pipeline.handle``, catch up, refresh prices after a
  close, update studies, deliver alerts).
- ``jobs.runner.JobRunner``: lease, stop flag, metrics and logging around every run; never lets an error out.
- ``jobs.leasing`` (leases on the wall clock, heartbeat, cooldown), ``jobs.instance_lock`` (one daemon per SQLite
  file), ``jobs.triggers`` (the burst-aware public-inspection trigger), ``jobs.closes`` (which exchanges closed),
  ``jobs.checks`` (start-up checks), ``jobs.health`` (/healthz and /readyz), ``jobs.http_server`` (the endpoint).
"""
