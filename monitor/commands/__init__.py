"""One module per command group; ``monitor.cli`` registers them. Heavy imports stay inside the commands."""
