"""A tenant's admin key reads its own tenant's telemetry only; only an operator's key reads every tenant's.

Each hole was open before the fix: an admin key of tenant A read tenant B's rows, prompts and completions
through ops SQL (directly, or through a join, a subquery, a CTE or a system table), every tenant's alerts
and `/v1/report`, and `GET /v1/metrics/summary` answered any tenant's usage and cost without a key. The
routes run here over a real, migrated chdb store holding two tenants' telemetry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmops_common.events import ModelCanaryStartedV1
from llmops_common.storage.chdb_store import ChdbTelemetryStore
from services.monitor.canary_board import Canary
from tests.security.monitor_harness import Deps, deps_over, issue, migrated_store, monitor_client

TENANT_A, TENANT_B = "tenant-a", "tenant-b"
MODEL = "shared-bot"
NOW = datetime.now(UTC).replace(microsecond=0)
REQUESTS = {TENANT_A: 3, TENANT_B: 5}


def inference_row(tenant: str, n: int) -> dict[str, object]:
    at = NOW - timedelta(minutes=5)
    return {
        "event_id": f"{tenant}-{n}",
        "event_time": at,
        "request_id": f"{tenant}-req-{n}",
        "tenant": tenant,
        "model_name": MODEL,
        "base_model": "tiny-llama",
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "latency_ms": 100.0,
        "cost_usd": 1.0,
        "status": "ok",
        "http_status": 200,
        "started_at": at,
        "prompt_text": f"{tenant} secret prompt",
        "completion_text": f"{tenant} secret completion",
        "text_capture": "full",
    }


def alert_row(alert_id: str, tenant: str) -> dict[str, object]:
    at = NOW - timedelta(minutes=2)
    return {
        "event_id": f"ev-{alert_id}",
        "event_time": at,
        "alert_id": alert_id,
        "state": "fired",
        "detector": alert_id.split(".")[0],
        "severity": "critical",
        "tenant": tenant,
        "model_name": MODEL,
        "value": 2.0,
        "threshold": 1.0,
        "current_start": at - timedelta(hours=1),
        "current_end": at,
        "message": f"{alert_id} fired",
        "at": at,
    }


BUDGET_A, BUDGET_B, DRIFT = f"cost.spend_hour/{TENANT_A}/*", f"cost.spend_hour/{TENANT_B}/*", "drift.psi/*/shared"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbTelemetryStore]:
    """Two tenants' requests, feedback and budget alerts, a model-wide alert and a lifecycle event."""
    telemetry = migrated_store(tmp_path_factory.mktemp("tenants") / "clickhouse")
    telemetry.insert_rows("inference_completed", [inference_row(t, n) for t, k in REQUESTS.items() for n in range(k)])
    telemetry.insert_rows(
        "feedback",
        [
            {
                "event_id": f"fb-{tenant}",
                "event_time": NOW - timedelta(minutes=4),
                "feedback_id": f"fb-{tenant}",
                "request_id": f"{tenant}-req-0",
                "tenant": tenant,
                "model_name": MODEL,
                "score": -1,
                "tags": [],
                "comment": f"{tenant} secret comment",
                "submitted_at": NOW - timedelta(minutes=4),
            }
            for tenant in REQUESTS
        ],
    )
    telemetry.insert_rows(
        "alerts", [alert_row(BUDGET_A, TENANT_A), alert_row(BUDGET_B, TENANT_B), alert_row(DRIFT, "")]
    )
    telemetry.insert_rows(
        "model_lifecycle",
        [
            {
                "event_id": "lc-1",
                "event_time": NOW,
                "action": "promoted",
                "model_name": MODEL,
                "changed_by": f"{TENANT_B}-secret-admin",
                "changed_at": NOW,
            }
        ],
    )
    yield telemetry
    telemetry.close()


@pytest.fixture
def deps(store: ChdbTelemetryStore, tmp_path: Path) -> Deps:
    return deps_over(store, tmp_path)


@pytest.fixture
def client(deps: Deps) -> Iterator[TestClient]:
    with monitor_client(deps) as http:
        yield http


@pytest.fixture
def keys(deps: Deps) -> dict[str, str]:
    return {
        "a_admin": issue(deps.keyring, TENANT_A, "admin"),
        "a_app": issue(deps.keyring, TENANT_A),
        "operator": issue(deps.keyring, "platform", "operator"),
    }


def sql(client: TestClient, key: str, query: str) -> tuple[int, Any]:
    response = client.post("/", content=query.encode(), auth=("ops", key), params={"default_format": "JSONEachRow"})
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, response.json()["error"]
    return response.status_code, response.text


def get(client: TestClient, path: str, key: str | None, **params: str) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    response = client.get(path, params=params, headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT DISTINCT tenant FROM inference_completed",
        "SELECT DISTINCT tenant FROM default.inference_completed FINAL",
        "SELECT tenant FROM inference_minute GROUP BY tenant",
        "SELECT tenant FROM cost_daily GROUP BY tenant",
        "SELECT DISTINCT tenant FROM feedback",
        "SELECT DISTINCT b.tenant AS tenant FROM inference_completed AS a "
        "JOIN inference_completed AS b ON a.model_name = b.model_name",
        "SELECT DISTINCT tenant FROM (SELECT tenant, prompt_text FROM inference_completed)",
        "WITH everyone AS (SELECT tenant FROM inference_completed) SELECT DISTINCT tenant FROM everyone",
        "SELECT DISTINCT tenant FROM inference_completed WHERE request_id IN (SELECT request_id FROM feedback)",
        "SELECT (SELECT max(tenant) FROM inference_completed) AS tenant",
        "SELECT DISTINCT tenant FROM view(SELECT tenant FROM inference_completed)",
        "SELECT tenant FROM inference_completed UNION DISTINCT SELECT tenant FROM feedback",
        "SELECT DISTINCT tenant FROM {table:Identifier}",
    ],
)
def test_a_tenant_admins_sql_reads_its_own_tenants_rows_only(
    client: TestClient, keys: dict[str, str], query: str
) -> None:
    response = client.post(
        "/", content=query.encode(), auth=("ops", keys["a_admin"]), params={"param_table": "inference_completed"}
    )

    assert (response.status_code, response.text) == (200, f"{TENANT_A}\n")


def test_a_tenant_admin_counts_and_reads_only_its_own_prompts(client: TestClient, keys: dict[str, str]) -> None:
    status, body = sql(
        client, keys["a_admin"], "SELECT count() AS n, groupArray(prompt_text) AS p FROM inference_completed"
    )

    assert status == 200
    assert body == '{"n":3,"p":["tenant-a secret prompt","tenant-a secret prompt","tenant-a secret prompt"]}\n'


@pytest.mark.parametrize(
    ("query", "table"),
    [
        ("SELECT query FROM system.query_log", "system.query_log"),
        ("SELECT query FROM system.processes", "system.processes"),
        ("SELECT name FROM system.tables", "system.tables"),
        ("SELECT table_name FROM information_schema.tables", "information_schema.tables"),
        ("SELECT 1 FROM inference_completed WHERE tenant IN system.tables", "system.tables"),
        ("SELECT (SELECT count() FROM system.parts) AS n", "system.parts"),
        ("SELECT * FROM {table:Identifier}", "system.tables"),
        ("SELECT changed_by FROM model_lifecycle", "model_lifecycle"),
        ("SELECT * FROM inference_minute_mv", "inference_minute_mv"),
        ("WITH lifecycle AS (SELECT * FROM model_lifecycle) SELECT changed_by FROM lifecycle", "model_lifecycle"),
    ],
)
def test_a_tenant_admin_cannot_read_tables_past_the_tenant_tables(
    client: TestClient, keys: dict[str, str], query: str, table: str
) -> None:
    response = client.post(
        "/", content=query.encode(), auth=("ops", keys["a_admin"]), params={"param_table": "system.tables"}
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "sql_refused"
    assert error["detail"] == {"table": table}
    assert TENANT_B not in response.text


def test_merge_cannot_reach_the_tables_around_the_filters(client: TestClient, keys: dict[str, str]) -> None:
    status, body = sql(client, keys["a_admin"], "SELECT DISTINCT tenant FROM merge('default', '^inference')")

    assert status == 422
    assert "function merge is not served" in body["message"]


def test_an_operators_sql_reads_every_tenant(client: TestClient, keys: dict[str, str]) -> None:
    status, body = sql(
        client, keys["operator"], "SELECT tenant, count() AS n FROM inference_completed GROUP BY tenant ORDER BY tenant"
    )

    assert (status, body) == (200, '{"tenant":"tenant-a","n":3}\n{"tenant":"tenant-b","n":5}\n')
    status, body = sql(client, keys["operator"], "SELECT changed_by FROM model_lifecycle")
    assert (status, body) == (200, '{"changed_by":"tenant-b-secret-admin"}\n')


def test_a_tenant_admin_sees_its_own_tenants_alerts_only(client: TestClient, keys: dict[str, str]) -> None:
    status, body = get(client, "/v1/alerts", keys["a_admin"], state="all")

    assert status == 200
    assert [alert["alert_id"] for alert in body["alerts"]] == [BUDGET_A]
    status, body = get(client, "/v1/alerts", keys["a_admin"], tenant=TENANT_B)
    assert (status, body["error"]["code"]) == (403, "forbidden")


def test_an_operator_sees_every_tenants_alerts_or_one_tenants(client: TestClient, keys: dict[str, str]) -> None:
    status, body = get(client, "/v1/alerts", keys["operator"], state="all")

    assert status == 200
    assert sorted(alert["alert_id"] for alert in body["alerts"]) == sorted([BUDGET_A, BUDGET_B, DRIFT])
    status, body = get(client, "/v1/alerts", keys["operator"], tenant=TENANT_B)
    assert [alert["alert_id"] for alert in body["alerts"]] == [BUDGET_B]


def test_a_tenant_admins_report_holds_its_own_tenants_figures_and_alerts(
    client: TestClient, keys: dict[str, str]
) -> None:
    status, body = get(client, "/v1/report", keys["a_admin"], model=MODEL, since="1h")

    assert status == 200
    assert sum(bucket["requests"] for bucket in body["buckets"]) == REQUESTS[TENANT_A]
    assert sum(bucket["feedback"] for bucket in body["buckets"]) == 1
    assert [alert["alert_id"] for alert in body["alerts"]] == [BUDGET_A]
    status, body = get(client, "/v1/report", keys["operator"], model=MODEL, since="1h")
    assert sum(bucket["requests"] for bucket in body["buckets"]) == REQUESTS[TENANT_A] + REQUESTS[TENANT_B]
    assert len(body["alerts"]) == 3


def test_the_metrics_summary_needs_a_key(client: TestClient) -> None:
    status, body = get(client, "/v1/metrics/summary", None, model=MODEL, window="1h")

    assert (status, body["error"]["code"]) == (401, "unauthorized")


def test_the_metrics_summary_holds_the_callers_tenant_only(client: TestClient, keys: dict[str, str]) -> None:
    status, body = get(client, "/v1/metrics/summary", keys["a_admin"], model=MODEL, window="1h")

    assert status == 200
    assert (body["tenant"], body["requests"], body["cost_usd"], body["feedback"]["count"]) == (TENANT_A, 3, 3.0, 1)
    assert get(client, "/v1/metrics/summary", keys["a_admin"], model=MODEL, tenant=TENANT_B)[0] == 403
    assert get(client, "/v1/metrics/summary", keys["a_app"], model=MODEL)[0] == 403


def test_an_operators_metrics_summary_holds_every_tenant_or_one(client: TestClient, keys: dict[str, str]) -> None:
    _, everyone = get(client, "/v1/metrics/summary", keys["operator"], model=MODEL, window="1h")
    _, one = get(client, "/v1/metrics/summary", keys["operator"], model=MODEL, window="1h", tenant=TENANT_B)

    assert (everyone["tenant"], everyone["requests"], everyone["feedback"]["count"]) == (None, 8, 2)
    assert (one["tenant"], one["requests"], one["cost_usd"]) == (TENANT_B, 5, 5.0)


def test_another_tenants_canary_is_not_listed(client: TestClient, deps: Deps, keys: dict[str, str]) -> None:
    def canary(model: str, owner: str | None) -> Canary:
        event = ModelCanaryStartedV1(
            model_name=model,
            base_model="tiny-llama",
            candidate_adapter_version="c2",
            candidate_percent=10,
            owner_tenant=owner,
            changed_by="evaluator",
            changed_at=NOW,
        )
        return Canary(f"id-{model}", event, NOW)

    deps.canaries.canaries[:] = [canary("a-bot", TENANT_A), canary("b-bot", TENANT_B), canary("base-bot", None)]

    def listed(key: str) -> list[str]:
        status, body = get(client, "/v1/canaries", key)
        assert status == 200
        return [item["model_name"] for item in body["canaries"]]

    assert listed(keys["a_app"]) == ["a-bot", "base-bot"]
    assert listed(keys["operator"]) == ["a-bot", "b-bot", "base-bot"]
