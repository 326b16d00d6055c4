"""What every process of appstore-events does the same way: logs, serving, HTTP metrics."""
