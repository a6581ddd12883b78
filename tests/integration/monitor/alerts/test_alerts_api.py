"""`GET /v1/alerts`, `GET /v1/report` and `llmops report` against the monitor serving on the real broker and
chDB: alert events published on `llmops.alerts` come back from the API, scoped to the caller's tenant (an
operator's key sees every tenant's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from llmops_common.cli.main import app as cli
from llmops_common.events import AlertFiredV1, AlertResolvedV1, InferenceCompletedV1
from llmops_common.events.alerts import AlertScope, TimeWindow
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from services.monitor.app import create_app
from services.monitor.detector_settings import DetectionSettings, EmbeddingDriftSettings
from services.monitor.settings import Settings
from tests.support.prompt_registry import publish_api_key
from tests.support.topic_reader import eventually
from tests.support.uvicorn_thread import serving


@pytest.fixture
async def keys(settings: PlatformSettings, unique: str) -> dict[str, str]:
    return {
        "operator": await publish_api_key(settings, f"ops-{unique}", "operator"),
        "acme": await publish_api_key(settings, f"acme-{unique}", "admin"),
        "acme_app": await publish_api_key(settings, f"acme-{unique}"),
    }


@pytest.fixture
def monitor_url(settings: PlatformSettings, tmp_path: Path, keys: dict[str, str]) -> Iterator[str]:
    """The monitor on a free port, from a thread; its detectors idle (the tests publish the alerts)."""
    port = free_port()
    monitor_settings = Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "monitor", "monitor_port": port},
        sink_batch_seconds=0.1,
        detection=DetectionSettings(interval_seconds=3600),
        embedding_drift=EmbeddingDriftSettings(enabled=False),
    )
    with serving(create_app(monitor_settings), port, "monitor") as url:
        yield url


def fired(alert_id: str, tenant: str | None, model: str, at: datetime) -> AlertFiredV1:
    return AlertFiredV1(
        alert_id=alert_id,
        detector=alert_id.split(".")[0],
        scope=AlertScope(tenant=tenant, model_name=model),
        value=2.5,
        threshold=1.0,
        current_window=TimeWindow(start=at - timedelta(hours=1), end=at),
        query_url="http://monitor/?query=SELECT+1",
        at=at,
        severity="critical",
        message=f"{alert_id} fired",
        enforce=tenant is not None,
    )


async def test_alerts_and_the_report_come_back_scoped_to_the_caller(
    monitor_url: str, publisher: EventPublisher, keys: dict[str, str], unique: str, tmp_path: Path
) -> None:
    model, now = f"bot-{unique}", datetime.now(UTC)
    acme, globex = f"acme-{unique}", f"globex-{unique}"
    budget = fired(f"cost.spend_hour/{acme}/*", acme, model, now - timedelta(minutes=3))
    other = fired(f"cost.spend_hour/{globex}/*", globex, model, now - timedelta(minutes=2))
    drift = fired(f"drift.psi_prompt_tokens/*/{model}", None, model, now - timedelta(minutes=10))
    resolved = AlertResolvedV1(**drift.model_dump(exclude={"severity", "message", "enforce", "at"}), at=now)
    await publisher.publish_many([budget, other, drift, resolved])
    await publisher.publish_many(
        [
            InferenceCompletedV1(
                request_id=f"{unique}-{n}",
                tenant=acme,
                model_name=model,
                base_model="tiny-llama",
                prompt_tokens=10,
                completion_tokens=20,
                latency_ms=100.0 + n,
                cost_usd=0.5,
                status="ok",
                http_status=200,
                started_at=now,
            )
            for n in range(10)
        ]
    )

    def alerts(key: str, **params: str) -> list[dict[str, object]]:
        response = httpx.get(
            f"{monitor_url}/v1/alerts", params={"model": model, **params}, headers={"authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text
        return list(response.json()["alerts"])

    await eventually(lambda: len(alerts(keys["operator"], state="all")) == 3, timeout=30)

    open_for_operator = alerts(keys["operator"])
    assert [a["alert_id"] for a in open_for_operator] == [other.alert_id, budget.alert_id]
    assert open_for_operator[1] | {"current_start": None, "current_end": None, "first_fired_at": None} == {
        "alert_id": budget.alert_id,
        "state": "fired",
        "detector": "cost",
        "severity": "critical",
        "tenant": acme,
        "model_name": model,
        "adapter_version": None,
        "value": 2.5,
        "threshold": 1.0,
        "message": f"{budget.alert_id} fired",
        "enforce": True,
        "query_url": "http://monitor/?query=SELECT+1",
        "current_start": None,
        "current_end": None,
        "first_fired_at": None,
        "fired_at": open_for_operator[1]["fired_at"],
        "resolved_at": None,
        "updated_at": open_for_operator[1]["fired_at"],
    }
    assert [a["alert_id"] for a in alerts(keys["operator"], state="resolved")] == [drift.alert_id]
    assert [a["alert_id"] for a in alerts(keys["acme"], state="all")] == [budget.alert_id]
    async with httpx.AsyncClient(base_url=monitor_url) as client:
        operator = {"authorization": f"Bearer {keys['operator']}"}
        bad = await client.get("/v1/alerts", params={"since": "forever"}, headers=operator)
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_window")
        assert (await client.get("/v1/alerts")).status_code == 401
        app_key = {"authorization": f"Bearer {keys['acme_app']}"}
        assert (await client.get("/v1/alerts", headers=app_key)).status_code == 403

    def report() -> dict[str, object]:
        response = httpx.get(
            f"{monitor_url}/v1/report",
            params={"model": model, "since": "1h"},
            headers={"authorization": f"Bearer {keys['operator']}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    await eventually(lambda: sum(b["requests"] for b in report()["buckets"]) == 10, timeout=30)  # type: ignore[attr-defined]
    body = report()
    assert sum(b["cost_usd"] for b in body["buckets"]) == pytest.approx(5.0)  # type: ignore[attr-defined]
    assert len(body["alerts"]) == 3  # type: ignore[arg-type]

    png = tmp_path / "report.png"
    result = CliRunner().invoke(
        cli,
        ["report", "--model", model, "--since", "1h", "--out", str(png), "--url", monitor_url, "--tenant", acme],
        env={"LLMOPS_API_KEY": keys["operator"]},
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "requests" in result.output
    assert "10" in result.output
    assert f"wrote {png}" in result.output
