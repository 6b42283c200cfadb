"""End-to-end tests: ``monitor run`` as a real process against local Federal Register and Slack servers."""
