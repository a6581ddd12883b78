"""The alert history in ClickHouse (the sink writes `llmops.alerts` into `alerts`): what is open now,
for `GET /v1/alerts` and for a restarted monitor's tracker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from llmops_common.storage.telemetry import TelemetryStore

from .alert_tracker import AlertTracker, Severity

LATEST_SQL = """
SELECT
    alert_id,
    argMax(state, at) AS state,
    argMaxIf(severity, at, state = 'fired') AS severity,
    argMax(detector, at) AS detector,
    argMax(tenant, at) AS tenant,
    argMax(model_name, at) AS model_name,
    argMax(adapter_version, at) AS adapter_version,
    argMax(value, at) AS value,
    argMax(threshold, at) AS threshold,
    argMaxIf(message, at, state = 'fired') AS message,
    argMaxIf(enforce, at, state = 'fired') AS enforce,
    argMax(query_url, at) AS query_url,
    argMax(current_start, at) AS current_start,
    argMax(current_end, at) AS current_end,
    minIf(at, state = 'fired') AS first_fired_at,
    maxIf(at, state = 'fired') AS fired_at,
    maxIf(at, state = 'resolved') AS resolved_at,
    max(at) AS updated_at
FROM alerts
WHERE at >= {since:DateTime64(3)}
GROUP BY alert_id
"""


def latest_alert_states(store: TelemetryStore, since: datetime) -> list[dict[str, Any]]:
    """Each alert changed since `since`, as its latest state, newest change first."""
    rows = store.query(LATEST_SQL, {"since": since})
    return sorted(rows, key=lambda row: row["updated_at"], reverse=True)


def restore_tracker(store: TelemetryStore, tracker: AlertTracker, since: datetime) -> int:
    """Loads alert states since `since` into `tracker`; returns how many are open."""
    opened = 0
    for row in latest_alert_states(store, since):
        firing = row["state"] == "fired"
        resolved_at = None if firing else datetime.fromisoformat(row["resolved_at"] + "+00:00")
        severity: Severity = "critical" if row["severity"] == "critical" else "warning"
        tracker.restore(row["alert_id"], firing=firing, severity=severity, resolved_at=resolved_at)
        opened += firing
    return opened
