"""Speed targets, one script per area: ``python -m benchmarks.NAME`` prints a (measure, figure, target) table."""
