"""Telemetry on the real broker: one event per request, success or failure, and none lost to a slow
or absent broker on the request's side."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord

from llmops_common.events import InferenceCompletedV1
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.topics import INFERENCE_COMPLETED
from services.model_server.settings import ModelPrice, Settings
from tests.integration.model_server.conftest import ServerFactory
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.scripted_engine import ScriptedEngine
from tests.support.tansu_broker import TansuBroker, s3_bucket_server
from tests.support.topic_reader import headers_of, read_matching


async def telemetry_of(bootstrap: str, tenant: str, count: int) -> list[InferenceCompletedV1]:
    records = await read_matching(
        bootstrap, INFERENCE_COMPLETED.name, lambda r: json.loads(r.value)["tenant"] == tenant, count
    )
    return [InferenceCompletedV1.model_validate_json(record.value) for record in records]


async def test_every_request_emits_one_event_with_its_fields(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    tenant = f"t-{unique}"
    key = await publish_api_key(settings, tenant)
    base = str(server_settings.base_model_name)
    prices = {base: ModelPrice(input_per_1k=1.0, output_per_1k=2.0)}
    with start_server(scripted_engine, prices=prices) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            ok = await http.post(
                "/v1/chat/completions",
                json={
                    "model": base,
                    "messages": [{"role": "user", "content": "mail me at ann@example.com"}],
                    "max_tokens": 3,
                },
            )
            missing = await http.post("/v1/chat/completions", json={"model": "nope", "messages": []})
    events = {event.request_id: event for event in await telemetry_of(settings.kafka_bootstrap, tenant, 2)}
    assert set(events) == {ok.headers["x-request-id"], missing.headers["x-request-id"]}
    served = events[ok.headers["x-request-id"]]
    assert served.status == "ok"
    assert served.http_status == 200
    assert (served.model_name, served.base_model, served.adapter_version, served.canary_arm) == (base, base, None, None)
    assert (served.prompt_tokens, served.completion_tokens) == (6, 3)
    assert served.cost_usd == pytest.approx((6 * 1.0 + 3 * 2.0) / 1000)
    assert served.finish_reason == "length"
    assert served.time_to_first_token_ms is not None
    assert 0 < served.time_to_first_token_ms <= served.latency_ms
    assert served.tokens_per_second is not None
    assert served.key_id == key.split("_")[1]
    assert served.text_capture == "redacted"
    assert served.prompt_text == "user: mail me at [EMAIL]\nassistant:"
    assert served.completion_text == "w0 w1 w2"
    failed = events[missing.headers["x-request-id"]]
    assert (failed.status, failed.http_status, failed.error_code) == ("error", 404, "model_not_found")
    assert failed.finish_reason == "error"


async def test_text_capture_none_keeps_no_text(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    tenant = f"t-{unique}"
    key = await publish_api_key(settings, tenant)
    with start_server(scripted_engine, text_capture="none") as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            body = {"model": server_settings.base_model_name, "prompt": "secret", "max_tokens": 1}
            assert (await http.post("/v1/completions", json=body)).status_code == 200
    [event] = await telemetry_of(settings.kafka_bootstrap, tenant, 1)
    assert (event.prompt_text, event.completion_text, event.text_capture) == (None, None, "none")


async def test_telemetry_is_spilled_while_the_broker_is_down_and_arrives_once_it_is_back(
    scripted_engine: ScriptedEngine,
    start_server: ServerFactory,
    server_settings: Settings,
    unique: str,
    tmp_path: Path,
) -> None:
    tenant = f"t-{unique}"
    # A broker of this test's own, to stop under the server. It keeps its topics in an S3 bucket, so it
    # comes back with them, as a Kafka broker does (an in-memory Tansu comes back empty).
    with s3_bucket_server(tmp_path / "s3.log") as endpoint:
        broker = TansuBroker(free_port(), tmp_path / "tansu.log", s3_endpoint=endpoint)
        broker.start()
        try:
            own_broker = server_settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{broker.port}"})
            key = await publish_api_key(own_broker, tenant)
            with start_server(
                scripted_engine, kafka_bootstrap=own_broker.kafka_bootstrap, telemetry_publish_timeout_seconds=0.5
            ) as url:
                async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=10) as http:
                    body = {"model": server_settings.base_model_name, "prompt": "x", "max_tokens": 1}
                    before = await http.post("/v1/completions", json=body)
                    assert before.status_code == 200
                    await _until_metric(http, "llmops_telemetry_published_total", 1)
                    broker.stop()
                    while_down = [await http.post("/v1/completions", json=body) for _ in range(5)]
                    await _until_metric(http, "llmops_telemetry_spilled_total", 5)
                    broker.start()
                    await _until_metric(http, "llmops_telemetry_published_total", 6, timeout=60)
                    metrics = await _metrics(http)
            expected = {response.headers["x-request-id"] for response in [before, *while_down]}
            records = await _records_covering(own_broker.kafka_bootstrap, tenant, expected)
        finally:
            broker.stop()
    assert [response.status_code for response in while_down] == [200] * 5
    assert (metrics["llmops_telemetry_dropped_total"], metrics["llmops_telemetry_spill_backlog"]) == (0, 0)
    event_ids: dict[str, set[str]] = {}
    for record in records:
        event_ids.setdefault(json.loads(record.value)["request_id"], set()).add(headers_of(record)["ce_id"])
    # Every request's telemetry arrived; a copy the producer may still have delivered is the same event id,
    # which consumers keep once.
    assert set(event_ids) == expected
    assert all(len(ids) == 1 for ids in event_ids.values())


async def _records_covering(
    bootstrap: str, tenant: str, request_ids: set[str], timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The tenant's telemetry records, read again until they cover `request_ids` (a loaded machine may take
    seconds to start a reader) or `timeout` runs out; copies of a record are kept, for the caller to see."""
    deadline = time.monotonic() + timeout
    while True:
        records = await read_matching(
            bootstrap, INFERENCE_COMPLETED.name, lambda r: json.loads(r.value)["tenant"] == tenant, 50, timeout=3
        )
        if {json.loads(r.value)["request_id"] for r in records} >= request_ids or time.monotonic() > deadline:
            return records


async def _metrics(http: httpx.AsyncClient) -> dict[str, float]:
    samples = (line.split() for line in (await http.get("/metrics")).text.splitlines() if not line.startswith("#"))
    return {sample[0]: float(sample[1]) for sample in samples if len(sample) == 2}


async def _until_metric(http: httpx.AsyncClient, name: str, at_least: float, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in (await http.get("/metrics")).text.splitlines():
            if line.startswith(name + " ") and float(line.split()[1]) >= at_least:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} did not reach {at_least}")


async def test_a_stopping_server_publishes_the_telemetry_it_still_holds(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    tenant = f"t-{unique}"
    key = await publish_api_key(settings, tenant)
    # Nothing is published on the way: the buffer waits a minute or 1,000 events.
    with start_server(scripted_engine, telemetry_flush_seconds=60.0) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            served = await http.post(
                "/v1/chat/completions",
                json={"model": server_settings.base_model_name, "messages": [{"role": "user", "content": "hi"}]},
            )

    [event] = await telemetry_of(settings.kafka_bootstrap, tenant, 1)
    assert event.request_id == served.headers["x-request-id"]
