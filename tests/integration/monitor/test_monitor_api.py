"""The monitor as a server on the real broker and chdb: its metrics summary and its ops SQL endpoint,
which the project's clickhouse-connect store (`ClickHouseServerTelemetryStore`) talks to."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import clickhouse_connect
import httpx
import pytest
import uvicorn

from llmops_common.events import FeedbackSubmittedV1, InferenceCompletedV1
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.storage.clickhouse_server import ClickHouseServerTelemetryStore
from llmops_common.storage.errors import TelemetryQueryError
from services.monitor.app import create_app
from services.monitor.settings import Settings
from tests.support.prompt_registry import publish_api_key
from tests.support.topic_reader import eventually


@pytest.fixture
async def admin_key(settings: PlatformSettings) -> str:
    """An admin key of the tenant the tests' requests are of, which reads that tenant's figures and rows."""
    return await publish_api_key(settings, "acme", "admin")


@pytest.fixture
def monitor_url(settings: PlatformSettings, tmp_path: Path, admin_key: str) -> Iterator[str]:
    """The monitor serving HTTP on a free port from a thread of its own, ready."""
    port = free_port()
    monitor_settings = Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "monitor", "monitor_port": port},
        sql_max_result_rows=5000,  # clickhouse-connect reads system.settings (about 2,000 rows) at connect
        sink_batch_seconds=0.1,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(monitor_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _ready(url):
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the monitor did not become ready")
        time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def request(n: int, model: str, *, adapter: str, latency: float) -> InferenceCompletedV1:
    return InferenceCompletedV1(
        request_id=f"{model}-{n}",
        tenant="acme",
        model_name=model,
        base_model="tiny-llama",
        adapter_version=adapter,
        prompt_tokens=10,
        completion_tokens=0 if n % 5 == 0 else 30,
        time_to_first_token_ms=None if n % 5 == 0 else 20.0,
        latency_ms=latency,
        cost_usd=0.25,
        status="error" if n % 5 == 0 else "ok",
        http_status=500 if n % 5 == 0 else 200,
        started_at=datetime.now(UTC),
    )


async def test_the_summary_adds_up_the_model_traffic_and_feedback(
    monitor_url: str, admin_key: str, publisher: EventPublisher, unique: str
) -> None:
    model = f"bot-{unique}"
    await publisher.publish_many(
        [request(n, model, adapter="v1", latency=100.0) for n in range(10)]
        + [request(n, model, adapter="v2", latency=300.0) for n in range(10, 20)]
        + [request(n, f"other-{unique}", adapter="v1", latency=5.0) for n in range(5)]
    )
    await publisher.publish_many(
        [
            FeedbackSubmittedV1(
                feedback_id=f"f{n}",
                request_id=f"{model}-{n}",
                tenant="acme",
                model_name=model,
                score=score,
                submitted_at=datetime.now(UTC),
            )
            for n, score in enumerate([1, -1, -1, 1])
        ]
    )

    def summary() -> dict[str, object]:
        response = httpx.get(
            f"{monitor_url}/v1/metrics/summary",
            params={"model": model, "window": "15m"},
            headers={"authorization": f"Bearer {admin_key}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    await eventually(lambda: summary()["requests"] == 20 and summary()["feedback"]["count"] == 4, timeout=30)  # type: ignore[index]
    body = summary()

    assert {key: body[key] for key in ("model", "tenant", "window", "requests", "errors", "error_rate")} == {
        "model": model,
        "tenant": "acme",
        "window": "15m",
        "requests": 20,
        "errors": 4,
        "error_rate": 0.2,
    }
    assert (body["prompt_tokens"], body["completion_tokens"], body["cost_usd"]) == (200, 480, 5.0)
    assert body["time_to_first_token_ms"] == {"p50": 20.0, "p95": 20.0, "p99": 20.0}
    assert [(a["adapter_version"], a["requests"], a["errors"], a["latency_ms"]["p50"]) for a in body["by_adapter"]] == [  # type: ignore[attr-defined]
        ("v1", 10, 2, 100.0),
        ("v2", 10, 2, 300.0),
    ]
    assert body["feedback"] == {"count": 4, "mean_score": 0.0, "thumbs_down": 2}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"model": "bot", "window": "yesterday"}, "invalid_window"),
        ({"model": "bot", "window": "91d"}, "invalid_window"),
        ({"window": "1h"}, "invalid_request"),
        ({"model": "bad model!", "window": "1h"}, "invalid_request"),
    ],
)
def test_bad_summary_parameters_are_422_saying_what_is_wrong(
    monitor_url: str, admin_key: str, params: dict[str, str], code: str
) -> None:
    response = httpx.get(
        f"{monitor_url}/v1/metrics/summary", params=params, headers={"authorization": f"Bearer {admin_key}"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_clickhouse_connect_reads_the_embedded_store_through_the_sql_endpoint(
    monitor_url: str, admin_key: str, publisher: EventPublisher, unique: str
) -> None:
    model = f"sql-{unique}"
    await publisher.publish_many([request(n, model, adapter="v1", latency=100.0) for n in range(3)])
    port = monitor_url.rsplit(":", 1)[1]
    # The project's clickhouse-connect code path, as if the monitor were a ClickHouse server.
    store = ClickHouseServerTelemetryStore(f"http://ops:{admin_key}@127.0.0.1:{port}/default")
    try:
        assert store.ping()

        def rows() -> list[dict[str, object]]:
            return store.query(
                "SELECT request_id, status, latency_ms FROM inference_completed FINAL "
                "WHERE model_name = {model:String} ORDER BY request_id",
                {"model": model},
            )

        await eventually(lambda: len(rows()) == 3, timeout=30)
        assert rows() == [
            {"request_id": f"{model}-0", "status": "error", "latency_ms": 100},
            {"request_id": f"{model}-1", "status": "ok", "latency_ms": 100},
            {"request_id": f"{model}-2", "status": "ok", "latency_ms": 100},
        ]
        with pytest.raises(TelemetryQueryError, match="only SELECT"):
            store.command("DROP TABLE inference_completed")
        with pytest.raises(TelemetryQueryError, match="function file is not served"):
            store.query("SELECT * FROM file('/etc/hostname', 'LineAsString')")
        with pytest.raises(TelemetryQueryError, match="Limit for result exceeded"):
            store.query("SELECT number FROM numbers(10000)")
    finally:
        store.close()


async def test_native_results_decode_and_only_admin_keys_get_in(
    monitor_url: str, admin_key: str, settings: PlatformSettings, unique: str
) -> None:
    port = int(monitor_url.rsplit(":", 1)[1])
    client = clickhouse_connect.get_client(host="127.0.0.1", port=port, username="ops", password=admin_key)
    try:
        result = client.query(
            "SELECT toLowCardinality('acme') AS tenant, toDateTime64('2026-11-22 12:00:00.250', 3, 'UTC') AS at, "
            "CAST(NULL, 'Nullable(Float64)') AS ttft, [1, 2] AS tokens, {n:UInt32} AS n",
            parameters={"n": 7},
        )
        assert result.column_names == ("tenant", "at", "ttft", "tokens", "n")
        # clickhouse-connect hands out UTC times without a zone by default.
        at = datetime(2026, 11, 22, 12, 0, 0, 250000, tzinfo=UTC).replace(tzinfo=None)
        assert result.result_rows == [("acme", at, None, [1, 2], 7)]
    finally:
        client.close()

    tenant_key = await publish_api_key(settings, f"t-{unique}")
    async with httpx.AsyncClient(base_url=monitor_url) as http:
        response = await http.post("/", content=b"SELECT 1", auth=("ops", tenant_key))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert (await http.post("/", content=b"SELECT 1")).status_code == 401
