"""The monitor: writes telemetry into ClickHouse and raises drift, cost and latency alerts."""
