"""The alert history in ClickHouse (the sink writes `llmops.alerts` into `alerts`): what is open now,
for `GET /v1/alerts` and for a restarted monitor's tracker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from llmops_common.storage.telemetry import TelemetryStore

from .alert_tracker import AlertTracker, Severity

LATEST_SQL = """
SELECT
    a.alert_id AS alert_id,
    argMax(a.state, a.at) AS state,
    argMaxIf(a.severity, a.at, a.state = 'fired') AS severity,
    argMax(a.detector, a.at) AS detector,
    argMax(a.tenant, a.at) AS tenant,
    argMax(a.model_name, a.at) AS model_name,
    argMax(a.adapter_version, a.at) AS adapter_version,
    argMax(a.value, a.at) AS value,
    argMax(a.threshold, a.at) AS threshold,
    argMaxIf(a.message, a.at, a.state = 'fired') AS message,
    argMaxIf(a.enforce, a.at, a.state = 'fired') AS enforce,
    argMax(a.query_url, a.at) AS query_url,
    argMax(a.current_start, a.at) AS current_start,
    argMax(a.current_end, a.at) AS current_end,
    minIf(a.at, a.state = 'fired') AS first_fired_at,
    maxIf(a.at, a.state = 'fired') AS fired_at,
    maxIf(a.at, a.state = 'resolved') AS resolved_at,
    max(a.at) AS updated_at
FROM alerts AS a
WHERE a.at >= {since:DateTime64(3)}
GROUP BY a.alert_id
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
