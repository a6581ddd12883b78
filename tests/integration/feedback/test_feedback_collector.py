"""The feedback collector on the real broker: the API, the join of corrections with requests, its TTL,
the example records it publishes, and its store across a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from llmops_common.events import FeedbackSubmittedV1, InferenceCompletedV1, RecordSubmittedV1
from llmops_common.kafka.bus import Bus
from llmops_common.settings import PlatformSettings
from llmops_common.topics import DATA_RAW, FEEDBACK
from services.feedback_collector.app import create_app, open_store
from services.feedback_collector.outbox import FeedbackIntent
from services.feedback_collector.schemas import FeedbackIn
from services.feedback_collector.service import body_digest
from services.feedback_collector.settings import Settings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.topic_reader import eventually, read_topic

MODEL = "support-bot"


class Clock:
    """A clock the test moves by hand, injected into the collector's store."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def served(
    request_id: str, tenant: str, text_capture: Literal["none", "redacted", "full"] = "full"
) -> InferenceCompletedV1:
    captured = text_capture != "none"
    return InferenceCompletedV1(
        request_id=request_id,
        tenant=tenant,
        model_name=MODEL,
        base_model="qwen",
        adapter_version="v7",
        prompt_tokens=5,
        completion_tokens=3,
        latency_ms=12.0,
        status="ok",
        http_status=200,
        started_at=datetime.now(UTC),
        prompt_text="How fast is support?" if captured else None,
        completion_text="Eventually." if captured else None,
        text_capture=text_capture,
    )


async def publish_served(settings: PlatformSettings, *events: InferenceCompletedV1) -> None:
    """Publishes telemetry as the model server does."""
    bus = Bus.create(settings, source="model_server", state_dir=settings.data_dir / "ms", registry=CollectorRegistry())
    await bus.start()
    try:
        await bus.publisher.publish_many(list(events))
    finally:
        await bus.close()


async def records_of(settings: PlatformSettings, topic: str, tenant: str) -> list[dict[str, Any]]:
    """Every record of `tenant` on `topic`, read from the beginning."""
    records = await read_topic(settings.kafka_bootstrap, topic, 1_000_000, timeout=2.0)
    return [body for body in (json.loads(r.value) for r in records) if body.get("tenant") == tenant]


def feedback(request_id: str, **changes: Any) -> dict[str, Any]:
    return {"request_id": request_id, "score_kind": "thumbs", "score": -1, **changes}


@pytest.fixture
async def keys(settings: PlatformSettings, unique: str) -> dict[str, str]:
    return {
        "own": await publish_api_key(settings, f"t-{unique}"),
        "other": await publish_api_key(settings, f"u-{unique}"),
    }


@contextmanager
def collector(settings: PlatformSettings, data_dir: Path, clock: Clock, **overrides: Any) -> Iterator[TestClient]:
    service_settings = Settings(
        **{**settings.model_dump(), "data_dir": data_dir, "feedback_unknown_request_wait_seconds": 0.3, **overrides}
    )
    with TestClient(create_app(service_settings, clock)) as client:
        yield client


async def learned(client: TestClient, request_id: str) -> None:
    """Waits until the collector has consumed the request's telemetry."""
    store = client.app_state["deps"].store
    await eventually(lambda: store.request(request_id) is not None, timeout=20)


async def test_a_correction_is_published_with_its_example_and_a_retry_has_one_effect(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    tenant, request_id = f"t-{unique}", f"req-{unique}"
    await publish_served(settings, served(request_id, tenant))
    body = feedback(request_id, label="wrong", comment="too vague", tags=["sla"], correction="Within one day.")
    with collector(settings, tmp_path / "fc", Clock()) as client:
        await learned(client, request_id)
        first = client.post("/v1/feedback", json={**body, "feedback_id": "fb-1"}, headers=bearer(keys["own"]))
        retry = client.post("/v1/feedback", json={**body, "feedback_id": "fb-1"}, headers=bearer(keys["own"]))
        reused = client.post(
            "/v1/feedback", json={**body, "score": 1, "feedback_id": "fb-1"}, headers=bearer(keys["own"])
        )

    record_id = f"feedback:{tenant}:fb-1"
    expected = {
        "feedback_id": "fb-1",
        "request_id": request_id,
        "correction_outcome": "example_published",
        "example_record_id": record_id,
    }
    assert (first.status_code, first.json()) == (202, expected)
    assert (retry.status_code, retry.json()) == (202, expected)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "conflict"

    [event] = [FeedbackSubmittedV1.model_validate(b) for b in await records_of(settings, FEEDBACK.name, tenant)]
    assert (event.model_name, event.adapter_version, event.score, event.score_kind) == (MODEL, "v7", -1, "thumbs")
    assert (event.label, event.comment, event.tags, event.correction) == (
        "wrong",
        "too vague",
        ["sla"],
        "Within one day.",
    )
    [example] = [RecordSubmittedV1.model_validate(b) for b in await records_of(settings, DATA_RAW.name, tenant)]
    assert example.record_id == record_id
    assert (example.kind, example.dataset, example.source) == (
        "example",
        f"feedback-{MODEL}",
        f"feedback_collector:{MODEL}",
    )
    assert (example.prompt, example.completion) == ("How fast is support?", "Within one day.")
    assert example.metadata["request_id"] == request_id
    assert example.metadata["original_completion"] == "Eventually."
    assert example.metadata["prompt_format"] == "templated"


async def test_bad_feedback_is_refused_in_json_and_another_tenants_request_reads_as_unknown(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    request_id = f"req-{unique}"
    await publish_served(settings, served(request_id, f"t-{unique}"))
    with collector(settings, tmp_path / "fc", Clock(), feedback_max_text_chars=100) as client:
        await learned(client, request_id)
        unauthenticated = client.post("/v1/feedback", json=feedback(request_id))
        thumbs_three = client.post("/v1/feedback", json=feedback(request_id, score=3), headers=bearer(keys["own"]))
        rating_six = client.post(
            "/v1/feedback", json=feedback(request_id, score_kind="rating", score=6), headers=bearer(keys["own"])
        )
        too_long = client.post(
            "/v1/feedback", json=feedback(request_id, correction="x" * 101), headers=bearer(keys["own"])
        )
        other_tenant = client.post("/v1/feedback", json=feedback(request_id), headers=bearer(keys["other"]))
        unknown = client.post("/v1/feedback", json=feedback(f"nope-{unique}"), headers=bearer(keys["other"]))

    assert unauthenticated.status_code == 401
    assert (thumbs_three.status_code, rating_six.status_code) == (422, 422)
    assert thumbs_three.json()["error"]["code"] == "invalid_request"
    assert too_long.status_code == 413
    assert too_long.json()["error"]["detail"] == {"limit_chars": 100}
    assert other_tenant.status_code == unknown.status_code == 404
    assert other_tenant.json()["error"] == {**unknown.json()["error"], "detail": {"request_id": request_id}}
    assert await records_of(settings, FEEDBACK.name, f"u-{unique}") == []


async def test_a_batch_answers_each_item_and_an_uncaptured_request_yields_no_example(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    tenant, other = f"t-{unique}", f"u-{unique}"
    captured, uncaptured, foreign = f"a-{unique}", f"b-{unique}", f"c-{unique}"
    await publish_served(settings, served(captured, tenant), served(uncaptured, tenant, "none"), served(foreign, other))
    items = [
        feedback(captured, score_kind="rating", score=2, correction="Within one day.", feedback_id="fb-a"),
        feedback(uncaptured, score_kind="rating", score=1, correction="Within one day.", feedback_id="fb-b"),
        feedback(foreign, feedback_id="fb-c"),
        feedback(captured, comment="y" * 200, feedback_id="fb-d"),
    ]
    with collector(settings, tmp_path / "fc", Clock(), feedback_max_text_chars=100) as client:
        for request_id in (captured, uncaptured, foreign):
            await learned(client, request_id)
        response = client.post("/v1/feedback/batch", json={"items": items}, headers=bearer(keys["own"]))

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [202, 202, 404, 413]
    assert results[1]["feedback"]["correction_outcome"] == "request_text_not_captured"
    assert results[1]["feedback"]["example_record_id"] is None
    assert results[2]["error"]["code"] == "not_found"
    events = {b["feedback_id"]: b for b in await records_of(settings, FEEDBACK.name, tenant)}
    assert sorted(events) == ["fb-a", "fb-b"]
    assert events["fb-b"]["correction_outcome"] == "request_text_not_captured"
    examples = await records_of(settings, DATA_RAW.name, tenant)
    assert [e["record_id"] for e in examples] == [f"feedback:{tenant}:fb-a"]


async def test_a_request_past_its_ttl_takes_no_feedback(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    request_id, clock = f"req-{unique}", Clock()
    await publish_served(settings, served(request_id, f"t-{unique}"))
    with collector(settings, tmp_path / "fc", clock, feedback_request_ttl_seconds=3600) as client:
        await learned(client, request_id)
        clock.now += 3599
        within = client.post("/v1/feedback", json=feedback(request_id, feedback_id="in"), headers=bearer(keys["own"]))
        clock.now += 2
        after = client.post("/v1/feedback", json=feedback(request_id, feedback_id="out"), headers=bearer(keys["own"]))

    assert (within.status_code, after.status_code) == (202, 404)


async def test_late_telemetry_is_waited_for(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    request_id = f"req-{unique}"
    with collector(settings, tmp_path / "fc", Clock(), feedback_unknown_request_wait_seconds=15) as client:
        pending = asyncio.create_task(
            asyncio.to_thread(client.post, "/v1/feedback", json=feedback(request_id), headers=bearer(keys["own"]))
        )
        await asyncio.sleep(0.5)
        await publish_served(settings, served(request_id, f"t-{unique}"))
        response = await pending

    assert response.status_code == 202, response.text


async def test_the_store_survives_a_restart(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    request_id, clock = f"req-{unique}", Clock()
    await publish_served(settings, served(request_id, f"t-{unique}"))
    body = feedback(request_id, correction="Within one day.", feedback_id="fb-1")
    with collector(settings, tmp_path / "fc", clock) as client:
        await learned(client, request_id)
        first = client.post("/v1/feedback", json=body, headers=bearer(keys["own"]))
    with collector(settings, tmp_path / "fc", clock, feedback_unknown_request_wait_seconds=0) as client:
        assert client.app_state["deps"].store.request(request_id) is not None
        retry = client.post("/v1/feedback", json=body, headers=bearer(keys["own"]))
        another = client.post("/v1/feedback", json={**body, "feedback_id": "fb-2"}, headers=bearer(keys["own"]))

    assert (first.status_code, retry.status_code, another.status_code) == (202, 202, 202)
    assert retry.json() == first.json()
    events = await records_of(settings, FEEDBACK.name, f"t-{unique}")
    assert sorted(e["feedback_id"] for e in events) == ["fb-1", "fb-2"]


async def test_retries_racing_each_other_publish_once(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    request_id = f"req-{unique}"
    await publish_served(settings, served(request_id, f"t-{unique}"))
    body = feedback(request_id, correction="Within one day.", feedback_id="fb-1")
    with collector(settings, tmp_path / "fc", Clock()) as client:
        await learned(client, request_id)
        responses = await asyncio.gather(
            *(asyncio.to_thread(client.post, "/v1/feedback", json=body, headers=bearer(keys["own"])) for _ in range(4))
        )

    assert {r.status_code for r in responses} == {202}
    assert len({r.text for r in responses}) == 1
    assert len(await records_of(settings, FEEDBACK.name, f"t-{unique}")) == 1
    assert len(await records_of(settings, DATA_RAW.name, f"t-{unique}")) == 1


async def test_feedback_written_down_by_an_interrupted_attempt_is_published_at_the_next_start(
    settings: PlatformSettings, tmp_path: Path, keys: dict[str, str], unique: str
) -> None:
    tenant, request_id = f"t-{unique}", f"req-{unique}"
    body = feedback(request_id, comment="too vague", feedback_id="fb-1")
    # What an attempt that crashed between writing its intent and publishing it leaves in the store.
    event = FeedbackSubmittedV1(
        feedback_id="fb-1",
        request_id=request_id,
        tenant=tenant,
        model_name=MODEL,
        adapter_version="v7",
        score=-1,
        score_kind="thumbs",
        comment="too vague",
        submitted_at=datetime.now(UTC),
    )
    written_down = FeedbackIntent(body_digest(FeedbackIn.model_validate(body)), event, None)
    service_settings = Settings(**{**settings.model_dump(), "data_dir": tmp_path / "fc"})
    interrupted = open_store(service_settings)
    interrupted.record_intent(tenant, "fb-1", written_down.stored())
    interrupted.close()

    with collector(settings, tmp_path / "fc", Clock()) as client:
        store = client.app_state["deps"].store
        await eventually(lambda: store.feedback(tenant, "fb-1") is not None, timeout=20)
        retry = client.post("/v1/feedback", json=body, headers=bearer(keys["own"]))

    assert retry.status_code == 202, retry.text
    assert retry.json()["feedback_id"] == "fb-1"
    published = await records_of(settings, FEEDBACK.name, tenant)
    # Once, and the event the intent held, not one the retry built again.
    assert [(e["feedback_id"], e["submitted_at"]) for e in published] == [
        ("fb-1", event.model_dump(mode="json")["submitted_at"])
    ]
