"""Canary analysis in the monitor app, on the real broker and chdb: telemetry of both arms through the
sink, a canary started on a lifecycle topic of the test's own, and the decision the monitor publishes there.

Each test stores its traffic first and then starts the canary a minute in the past, so the first check
already sees all of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
import pytest
from aiokafka import ConsumerRecord
from aiokafka.admin import NewTopic
from faststream.kafka import KafkaBroker

from llmops_common.events import (
    ArtifactRef,
    Event,
    FeedbackSubmittedV1,
    InferenceCompletedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRolledBackV1,
)
from llmops_common.kafka.admin import create_topics
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.topics import FEEDBACK, INFERENCE_COMPLETED, MODELS_LIFECYCLE, TopicSpec
from services.monitor.app import create_app
from services.monitor.detector_settings import DetectionSettings
from services.monitor.settings import Settings
from tests.support.prompt_registry import publish_api_key
from tests.support.synthetic_traffic import publish_at
from tests.support.topic_reader import eventually_async, headers_of, read_matching
from tests.support.uvicorn_thread import serving

CHECK_SECONDS = 0.3
STABLE_REF = ArtifactRef(uri="file:///adapters/s1", sha256="a" * 64, size_bytes=10)
CANDIDATE_REF = ArtifactRef(uri="file:///adapters/c2", sha256="b" * 64, size_bytes=12)


Arm = Literal["stable", "candidate"]
ARMS: tuple[Arm, ...] = ("stable", "candidate")


class MonitorFactory(Protocol):
    def __call__(self) -> AbstractContextManager[str]: ...


@pytest.fixture
async def operator_key(settings: PlatformSettings, unique: str) -> str:
    """A platform operator's key, which reads every tenant's figures and canaries."""
    return await publish_api_key(settings, f"ops-{unique}", "operator")


@pytest.fixture
async def lifecycle_topic(settings: PlatformSettings, unique: str) -> TopicSpec:
    """The lifecycle topic of this test, so the monitor sees no other test's canaries."""
    topic = dataclasses.replace(MODELS_LIFECYCLE, name=f"{MODELS_LIFECYCLE.name}.{unique}")
    await create_topics(settings, [NewTopic(topic.name, 3, 1)])
    return topic


@pytest.fixture
def monitor(
    settings: PlatformSettings, tmp_path: Path, operator_key: str, lifecycle_topic: TopicSpec
) -> MonitorFactory:
    """Starts the monitor app (checking canaries every 0.3 s, detectors off) for the length of a block."""
    port = free_port()
    monitor_settings = Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "monitor", "monitor_port": port},
        sink_batch_seconds=0.1,
        canary_check_seconds=CHECK_SECONDS,
        detection=DetectionSettings(enabled=False),
    )

    def start() -> AbstractContextManager[str]:
        return serving(create_app(monitor_settings, lifecycle_topic=lifecycle_topic), port, "monitor")

    return start


def request(model: str, arm: Arm, n: int, *, failed: bool = False, latency_ms: float = 400.0) -> InferenceCompletedV1:
    return InferenceCompletedV1(
        request_id=f"{model}-{arm}-{n}",
        tenant="acme",
        model_name=model,
        base_model="tiny-llama",
        adapter_version="s1" if arm == "stable" else "c2",
        canary_arm=arm,
        prompt_tokens=20,
        completion_tokens=0 if failed else 40,
        time_to_first_token_ms=None if failed else 60.0 + n % 10,
        latency_ms=latency_ms + n % 20,
        status="error" if failed else "ok",
        http_status=500 if failed else 200,
        started_at=datetime.now(UTC),
    )


def thumbs(model: str, arm: Arm, n: int, score: int) -> FeedbackSubmittedV1:
    return FeedbackSubmittedV1(
        feedback_id=f"fb-{model}-{arm}-{n}",
        request_id=f"{model}-{arm}-{n}",
        tenant="acme",
        model_name=model,
        score=score,
        score_kind="thumbs",
        submitted_at=datetime.now(UTC),
    )


def canary(model: str, owner: str | None = None) -> ModelCanaryStartedV1:
    return ModelCanaryStartedV1(
        model_name=model,
        owner_tenant=owner,
        base_model="tiny-llama",
        stable_adapter_version="s1",
        stable_adapter=STABLE_REF,
        candidate_adapter_version="c2",
        candidate_adapter=CANDIDATE_REF,
        candidate_percent=50,
        changed_by="evaluator",
        changed_at=datetime.now(UTC) - timedelta(minutes=1),
    )


async def stored(http: httpx.AsyncClient, key: str, model: str, requests: int, feedback: int) -> bool:
    """Whether the monitor's store holds this many requests and feedback rows of `model`."""
    response = await http.get(
        "/v1/metrics/summary", params={"model": model, "window": "15m"}, headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return bool(body["requests"] == requests and body["feedback"]["count"] == feedback)


async def store_traffic(
    broker: KafkaBroker,
    http: httpx.AsyncClient,
    key: str,
    model: str,
    requests: list[InferenceCompletedV1],
    votes: list[FeedbackSubmittedV1],
) -> None:
    """Publishes the requests (spread over the last 40 seconds) and feedback, and waits until all are stored."""
    now = datetime.now(UTC)
    at = [now - timedelta(seconds=40) + timedelta(seconds=30) * i / len(requests) for i in range(len(requests))]
    await publish_at(broker, INFERENCE_COMPLETED.name, list(zip(requests, at, strict=True)))
    await publish_at(broker, FEEDBACK.name, [(vote, now - timedelta(seconds=5)) for vote in votes])
    await eventually_async(lambda: stored(http, key, model, len(requests), len(votes)), timeout=60)


async def start_canary(broker: KafkaBroker, topic: TopicSpec, event: ModelCanaryStartedV1) -> None:
    # Its CloudEvents time, which the monitor counts the canary from, is before the stored traffic.
    await publish_at(broker, topic.name, [(event, event.changed_at)])


async def lifecycle_of(
    settings: PlatformSettings, topic: TopicSpec, model: str, count: int, timeout: float
) -> list[Event]:
    """The first `count` lifecycle events about `model`, or those that came within `timeout`."""

    def about_model(record: ConsumerRecord[bytes, bytes]) -> bool:
        return bool(record.key == model.encode())

    records = await read_matching(settings.kafka_bootstrap, topic.name, about_model, count, timeout=timeout)
    kinds: dict[str, type[Event]] = {kind.event_type: kind for kind in topic.events}
    return [kinds[headers_of(record)["ce_type"]].model_validate_json(record.value) for record in records]


async def checks_counted(http: httpx.AsyncClient, verdict: str) -> float:
    """`llmops_canary_checks_total` of `verdict` on the monitor's `/metrics`."""
    text = (await http.get("/metrics")).text
    prefix = f'llmops_canary_checks_total{{verdict="{verdict}"}} '
    return float(next(line for line in text.splitlines() if line.startswith(prefix)).removeprefix(prefix))


async def canaries(http: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/canaries", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()["canaries"]
    return body


async def test_a_healthy_canary_is_promoted_once_even_across_a_restart(
    monitor: MonitorFactory,
    broker: KafkaBroker,
    settings: PlatformSettings,
    lifecycle_topic: TopicSpec,
    operator_key: str,
    unique: str,
) -> None:
    model = f"bot-{unique}"
    traffic = [request(model, arm, n) for n in range(60) for arm in ARMS]
    votes = [thumbs(model, arm, n, -1 if n % 5 == 0 else 1) for n in range(15) for arm in ARMS]
    with monitor() as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await store_traffic(broker, http, operator_key, model, traffic, votes)
            await start_canary(broker, lifecycle_topic, canary(model, owner="acme"))

            events = await lifecycle_of(settings, lifecycle_topic, model, 2, timeout=30)

            assert [type(event) for event in events] == [ModelCanaryStartedV1, ModelPromotedV1]
            assert events[1].model_dump(exclude={"changed_at"}) == {
                "model_name": model,
                "base_model": "tiny-llama",
                "adapter_version": "c2",
                "adapter": CANDIDATE_REF.model_dump(),
                "eval_id": None,
                "owner_tenant": "acme",
                "shared": False,
                "changed_by": "monitor",
            }
            await eventually_async(lambda: _no_canaries(http, operator_key))
            assert await checks_counted(http, "pass") == 1
    with monitor() as url:  # restarted: its replay shows the canary decided, so nothing is published again
        async with httpx.AsyncClient(base_url=url) as http:
            await asyncio.sleep(5 * CHECK_SECONDS)
            assert await canaries(http, operator_key) == []
            assert await checks_counted(http, "pass") == 0

    events = await lifecycle_of(settings, lifecycle_topic, model, 3, timeout=10 * CHECK_SECONDS)
    assert [type(event) for event in events] == [ModelCanaryStartedV1, ModelPromotedV1]


async def _no_canaries(http: httpx.AsyncClient, key: str) -> bool:
    return await canaries(http, key) == []


async def test_a_canary_whose_candidate_errors_is_rolled_back_after_two_checks(
    monitor: MonitorFactory,
    broker: KafkaBroker,
    settings: PlatformSettings,
    lifecycle_topic: TopicSpec,
    operator_key: str,
    unique: str,
) -> None:
    model = f"bot-{unique}"
    traffic = [request(model, "stable", n) for n in range(60)]
    traffic += [request(model, "candidate", n, failed=n % 3 == 0) for n in range(60)]
    with monitor() as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await store_traffic(broker, http, operator_key, model, traffic, [])
            await start_canary(broker, lifecycle_topic, canary(model))

            events = await lifecycle_of(settings, lifecycle_topic, model, 2, timeout=30)

            reason = "error rate 33.3% against 0.0% on stable (more than 2.0% higher)"
            assert [type(event) for event in events] == [ModelCanaryStartedV1, ModelRolledBackV1]
            assert events[1].model_dump(exclude={"changed_at"}) == {
                "model_name": model,
                "base_model": "tiny-llama",
                "adapter_version": "s1",
                "adapter": STABLE_REF.model_dump(),
                "reason": f"canary of c2 failed 2 consecutive checks against s1: check 1: {reason}; check 2: {reason}",
                "owner_tenant": None,
                "shared": False,
                "changed_by": "monitor",
            }
            assert await checks_counted(http, "fail") == 2
            assert await checks_counted(http, "pass") == 0

    events = await lifecycle_of(settings, lifecycle_topic, model, 3, timeout=5 * CHECK_SECONDS)
    assert len(events) == 2


async def test_too_little_traffic_holds_the_canary_and_publishes_nothing(
    monitor: MonitorFactory,
    broker: KafkaBroker,
    settings: PlatformSettings,
    lifecycle_topic: TopicSpec,
    operator_key: str,
    unique: str,
) -> None:
    model = f"bot-{unique}"
    traffic = [request(model, arm, n) for n in range(20) for arm in ARMS]
    votes = [thumbs(model, "stable", n, 1) for n in range(4)] + [thumbs(model, "candidate", n, -1) for n in range(2)]
    started = canary(model)
    with monitor() as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await store_traffic(broker, http, operator_key, model, traffic, votes)
            await start_canary(broker, lifecycle_topic, started)

            async def checked_five_times() -> bool:
                found = await canaries(http, operator_key)
                return bool(found and found[0]["checks"] >= 5)

            await eventually_async(checked_five_times, timeout=30)
            [view] = await canaries(http, operator_key)
            unauthenticated = await http.get("/v1/canaries")

    assert unauthenticated.status_code == 401
    last = view.pop("last_check")
    assert view.pop("checks") >= 5
    assert view == {
        "model_name": model,
        "base_model": "tiny-llama",
        "canary_event_id": view["canary_event_id"],
        "started_at": view["started_at"],
        "stable_adapter_version": "s1",
        "candidate_adapter_version": "c2",
        "candidate_percent": 50.0,
        "consecutive_passes": 0,
        "consecutive_failures": 0,
        "decision": None,
    }
    assert last["verdict"] == "inconclusive"
    assert last["reasons"] == [
        "the stable arm has 20 requests, fewer than the 50 needed",
        "the candidate arm has 20 requests, fewer than the 50 needed",
    ]
    assert {
        arm: (last[arm]["requests"], last[arm]["errors"], last[arm]["feedback"], last[arm]["thumbs_down"])
        for arm in ("stable", "candidate")
    } == {"stable": (20, 0, 4, 0), "candidate": (20, 0, 2, 2)}
    assert last["candidate"]["thumbs_down_rate"] == 1.0
    assert datetime.fromisoformat(view["started_at"]) == started.changed_at

    events = await lifecycle_of(settings, lifecycle_topic, model, 2, timeout=5 * CHECK_SECONDS)
    assert [type(event) for event in events] == [ModelCanaryStartedV1]
