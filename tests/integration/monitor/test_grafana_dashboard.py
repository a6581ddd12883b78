"""Every query of the shipped Grafana dashboard runs on the telemetry tables and returns what it plots."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llmops_common.settings import REPO_ROOT
from llmops_common.storage.telemetry import TelemetryStore
from tests.integration.monitor.conftest import START, inference

DASHBOARD = REPO_ROOT / "infra" / "grafana" / "llmops-telemetry.json"
# What Grafana and the ClickHouse plugin put in place of the macros and variables, for a range
# around START, a 60 s interval, the model support-bot and the tenant acme.
MACROS = [
    (
        r"\$__timeFilter\((\w+)\)",
        r"\1 >= toDateTime('2026-11-22 11:00:00') AND \1 <= toDateTime('2026-11-22 13:00:00')",
    ),
    (r"\$__timeInterval\((\w+)\)", r"toStartOfInterval(\1, INTERVAL 60 second)"),
    (r"\$__interval_s", "60"),
    (r"\$__fromTime", "toDateTime('2026-11-22 11:00:00')"),
    (r"\$__toTime", "toDateTime('2026-11-22 13:00:00')"),
    (r"\$\{model\}", "support-bot"),
    (r"\$\{tenant:singlequote\}", "'acme'"),
]


def expanded(sql: str) -> str:
    for pattern, replacement in MACROS:
        sql = re.sub(pattern, replacement, sql)
    assert "$" not in sql, sql
    return sql


def dashboard_queries() -> dict[str, str]:
    board = json.loads(DASHBOARD.read_text())
    queries = {panel["title"]: panel["targets"][0]["rawSql"] for panel in board["panels"]}
    queries.update({f"variable {v['name']}": v["query"] for v in board["templating"]["list"] if v["type"] == "query"})
    queries["annotation"] = board["annotations"]["list"][0]["target"]["rawSql"]
    return queries


@pytest.fixture
def filled(telemetry: TelemetryStore) -> TelemetryStore:
    rows = [
        {"event_id": f"e{n}", "event_time": START + timedelta(seconds=n), **inference(n).model_dump(mode="json")}
        for n in range(120)
    ]
    telemetry.insert_rows("inference_completed", rows)
    telemetry.insert_rows(
        "feedback",
        [
            {
                "event_id": f"f{n}",
                "event_time": START,
                "feedback_id": f"f{n}",
                "request_id": f"req-{n}",
                "tenant": "acme",
                "model_name": "support-bot",
                "score": score,
                "tags": [],
                "submitted_at": START,
            }
            for n, score in enumerate([1, -1, 5])
        ],
    )
    window = {"current_start": START, "current_end": START + timedelta(hours=1)}
    telemetry.insert_rows(
        "detector_measurements",
        [
            {
                "measured_at": START,
                "detector": "input_drift",
                "metric": "psi_prompt_tokens",
                "model_name": "support-bot",
                "value": 0.3,
                "threshold": 0.2,
                "breached": True,
                **window,
            }
        ],
    )
    telemetry.insert_rows(
        "alerts",
        [
            {
                "event_id": "a1",
                "event_time": START,
                "alert_id": "drift:support-bot",
                "state": "fired",
                "detector": "input_drift",
                "severity": "warning",
                "model_name": "support-bot",
                "value": 0.3,
                "threshold": 0.2,
                "message": "drift",
                "at": START,
                **window,
            }
        ],
    )
    return telemetry


def run(store: TelemetryStore, title: str) -> list[dict[str, Any]]:
    return store.query(expanded(dashboard_queries()[title]))


def test_every_panel_variable_and_annotation_query_runs(filled: TelemetryStore) -> None:
    for title, sql in dashboard_queries().items():
        assert filled.query(expanded(sql)), f"{title} returned no rows"


def test_the_panels_plot_the_figures_of_the_rollups(filled: TelemetryStore) -> None:
    # Two minutes of traffic, 60 requests each, half on each adapter; every tenth request (all on v2) failed.
    traffic = run(filled, "Traffic (requests/s) by adapter version")
    assert sorted((row["time"], row["adapter_version"], row["requests_per_second"]) for row in traffic) == [
        ("2026-11-22 12:00:00", "v1", 0.5),
        ("2026-11-22 12:00:00", "v2", 0.5),
        ("2026-11-22 12:01:00", "v1", 0.5),
        ("2026-11-22 12:01:00", "v2", 0.5),
    ]
    errors = sorted((row["time"], row["adapter_version"], row["error_rate"]) for row in run(filled, "Error rate"))
    assert [rate for _, _, rate in errors] == [0.0, 0.2, 0.0, 0.2]
    # Latencies are 50..60 ms, evenly spread.
    for row in run(filled, "Latency p50 / p95 / p99"):
        assert 54 <= row["p50"] <= 56
        assert 59 <= row["p95"] <= row["p99"] <= 60
    assert run(filled, "Daily cost per tenant and model") == [
        {
            "day": "2026-11-22",
            "tenant": "acme",
            "model_name": "support-bot",
            "requests_total": 120,
            "cost": pytest.approx(sum(inference(n).cost_usd for n in range(120))),
        },
    ]
    assert run(filled, "Feedback score") == [
        {"time": "2026-11-22 12:00:00", "mean_score": pytest.approx(5 / 3), "thumbs_down": 1}
    ]
    assert run(filled, "Drift scores") == [{"time": "2026-11-22 12:00:00", "metric": "psi_prompt_tokens", "score": 0.3}]
    assert run(filled, "Open alerts") == [{"open_alerts": 1}]
    assert datetime.fromisoformat(run(filled, "Alerts")[0]["at"]).replace(tzinfo=UTC) == START
