"""The service frame against the real broker: health, readiness, metrics and the one error shape."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel

from llmops_common.errors import ConflictError
from llmops_common.kafka.admin import list_topics
from llmops_common.service.app import RuntimeDeps, create_service_app
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.topics import CATALOG
from services.trainer.app import create_app as create_trainer_app
from services.trainer.settings import Settings as TrainerSettings

probe = APIRouter()


class Widget(BaseModel):
    size: int


@probe.post("/widgets")
async def make_widget(widget: Widget) -> dict[str, int]:
    if widget.size == 7:
        raise ConflictError("widget 7 exists", detail={"current": 7})
    return {"size": widget.size}


@pytest.fixture
def trainer_settings(kafka_bootstrap: str, tmp_path: Path) -> TrainerSettings:
    return TrainerSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path)


@pytest.fixture
def trainer(trainer_settings: TrainerSettings) -> Iterator[TestClient]:
    with TestClient(create_trainer_app(trainer_settings)) as client:
        yield client


def test_healthz_names_the_service(trainer: TestClient) -> None:
    response = trainer.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "trainer"}


def test_readyz_is_green_when_kafka_answers(trainer: TestClient) -> None:
    response = trainer.get("/readyz")
    assert response.status_code == 200
    checks = {"kafka": "ok", "artifacts": "ok"}
    assert response.json() == {"status": "ready", "service": "trainer", "checks": checks}


def test_metrics_count_requests_by_route(trainer: TestClient) -> None:
    trainer.get("/healthz")
    body = trainer.get("/metrics").text
    assert 'llmops_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert "llmops_events_consumed_total" in body or "# HELP llmops_events_consumed" in body


async def test_start_creates_every_catalog_topic(trainer: TestClient, trainer_settings: TrainerSettings) -> None:
    topics = set(await list_topics(trainer_settings))
    assert {spec.name for spec in CATALOG} <= topics
    assert "llmops.dlq.monitor" in topics


def test_trace_is_continued_from_the_caller(trainer: TestClient) -> None:
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    echoed = trainer.get("/healthz", headers={"traceparent": caller}).headers["traceparent"]
    assert echoed.startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert echoed != caller


def test_errors_render_as_one_json_shape(trainer_settings: TrainerSettings) -> None:
    app = create_service_app(trainer_settings, _runtime_deps_failing_check, routers=[probe])
    with TestClient(app) as client:
        conflict = client.post("/widgets", json={"size": 7})
        invalid = client.post("/widgets", json={"size": "big"})
        missing = client.get("/nowhere")
    assert conflict.status_code == 409
    assert conflict.json() == {"error": {"code": "conflict", "message": "widget 7 exists", "detail": {"current": 7}}}
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid_request"
    assert invalid.json()["error"]["detail"][0]["location"] == "body.size"
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "http_error", "message": "Not Found", "detail": None}}


def test_readyz_is_503_naming_a_failing_dependency(trainer_settings: TrainerSettings) -> None:
    with TestClient(create_service_app(trainer_settings, _runtime_deps_failing_check)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"kafka": "ok", "store": "failing"}


@contextlib.asynccontextmanager
async def _runtime_deps_failing_check(runtime: ServiceRuntime) -> AsyncIterator[RuntimeDeps]:
    def store_is_down() -> bool:
        raise ConnectionError("store is down")

    runtime.readiness.add("store", store_is_down)
    yield RuntimeDeps(runtime)
