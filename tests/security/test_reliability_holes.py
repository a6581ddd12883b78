"""The reliability holes of issue 17, one test each, as a user would meet them; each failed before the fix.

- A store away for a second dead-lettered events after three quick retries.
- A dead-lettered event was marked handled, so replaying its dead letter was silently skipped.
- Telemetry, which feeds budgets, was dropped when the buffer was full or the broker down.
- Feedback was published before its id was remembered: a crash between the two, and the retry was a
  second event, a second row downstream.
- Feedback on another tenant's request answered 404 at once, and on an unknown one after the wait.
- The schema check compared with `HEAD`, so a breaking change committed with its schema passed it.

Broker tests run on the session's real broker (Tansu), each on topics and groups of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaConnectionError
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from llmops_common.contracts.compat import breaking_changes
from llmops_common.contracts.schema_history import schema_history
from llmops_common.errors import PermanentError
from llmops_common.events import FeedbackSubmittedV1, InferenceCompletedV1
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.errors import StoreUnavailableError
from llmops_common.topics import DATA_RAW, FEEDBACK, dead_letter_topic
from services.feedback_collector.app import create_app as create_collector
from services.feedback_collector.settings import Settings as CollectorSettings
from services.feedback_collector.store import FeedbackStore
from services.model_server.metrics import ServerMetrics
from services.model_server.telemetry import TelemetryBuffer
from services.model_server.telemetry_spill import Pending, TelemetrySpill
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.served_requests import served_request
from tests.support.topic_reader import eventually, headers_of, read_topic


def feedback_event(feedback_id: str) -> FeedbackSubmittedV1:
    return FeedbackSubmittedV1(
        feedback_id=feedback_id, request_id="r", tenant="acme", score=1, submitted_at=datetime.now(UTC)
    )


@asynccontextmanager
async def consuming(
    settings: PlatformSettings, state: Path, topic: str, group: str, handler: Any, **overrides: object
) -> AsyncIterator[Bus]:
    """A started bus whose `group` hands `topic`'s feedback events to `handler`."""
    await create_topics(settings, [NewTopic(topic, 1, 1), NewTopic(dead_letter_topic(group), 1, 1)])
    bus = Bus.create(
        settings.model_copy(update=overrides), source="test", state_dir=state, registry=CollectorRegistry()
    )
    bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handler, group_id=group)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


async def test_a_store_away_for_a_second_is_waited_out_and_nothing_is_dead_lettered(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    topic, group = f"fb.{unique}", f"g-{unique}"
    attempts: list[float] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        attempts.append(time.monotonic())
        if attempts[-1] < attempts[0] + 1.0:
            raise StoreUnavailableError("ClickHouse does not answer")

    async with consuming(settings, tmp_path, topic, group, handle, handler_backoff_max_seconds=0.2) as bus:
        await bus.publisher.publish(feedback_event("fb-1"), topic=topic)
        await eventually(lambda: attempts and attempts[-1] >= attempts[0] + 1.0)

    assert await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1, timeout=1.0) == []


async def test_a_replayed_dead_letter_goes_through_the_handler_again(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    topic, group = f"fb.{unique}", f"g-{unique}"
    fixed = False
    handled: list[str] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        if not fixed:
            raise PermanentError("no model named support-bot")
        handled.append(event.feedback_id)

    async with consuming(settings, tmp_path, topic, group, handle) as bus:
        await bus.publisher.publish(feedback_event("fb-1"), topic=topic)
        [dead] = await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1)
        fixed = True
        # What a replay sends: the original record, its event id included, onto the original topic.
        original_headers = [(name, value) for name, value in dead.headers if not name.startswith("dlq_")]
        await send(settings, topic, dead.value, original_headers)
        await eventually(lambda: handled == ["fb-1"], timeout=5)


class AwayBroker:
    """A broker that refuses batches while `away`, then takes them."""

    def __init__(self) -> None:
        self.away = True
        self.published: list[Pending] = []

    async def publish(self, batch: Sequence[Pending]) -> None:
        if self.away:
            raise KafkaConnectionError("the broker is away")
        self.published += batch


async def test_telemetry_the_broker_does_not_take_is_kept_and_sent_later_and_only_real_loss_is_counted(
    tmp_path: Path,
) -> None:
    registry, broker = CollectorRegistry(), AwayBroker()
    metrics = ServerMetrics(registry)
    buffer = TelemetryBuffer(
        broker.publish,
        metrics,
        TelemetrySpill(tmp_path / "spill", max_bytes=1 << 20),
        source="model_server",
        capacity=3,
        batch_size=2,
        flush_seconds=0.01,
        publish_timeout=0.1,
    )
    task = asyncio.create_task(buffer.run())
    try:
        for number in range(10):  # more than the buffer holds, while the broker is away
            buffer.record(served(f"r{number}", "acme"))
        await eventually(lambda: registry.get_sample_value("llmops_telemetry_spilled_total") == 10)
        broker.away = False
        await eventually(lambda: len(broker.published) == 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert sorted(event.request_id for _, event in broker.published) == sorted(f"r{n}" for n in range(10))
    assert len({envelope.id for envelope, _ in broker.published}) == 10
    assert registry.get_sample_value("llmops_telemetry_dropped_total") == 0

    # Loss happens only when the disk cannot take it, and `/metrics` counts it.
    full = TelemetryBuffer(
        AwayBroker().publish,
        ServerMetrics(full_registry := CollectorRegistry()),
        TelemetrySpill(tmp_path / "full", max_bytes=0),
        source="model_server",
        capacity=3,
        batch_size=2,
        flush_seconds=0.01,
        publish_timeout=0.1,
    )
    full.record(served("lost", "acme"))
    await full.flush()
    assert full_registry.get_sample_value("llmops_telemetry_dropped_total") == 1


@pytest.mark.parametrize("client_feedback_id", ["fb-1", None], ids=["with-feedback-id", "without"])
async def test_feedback_retried_after_a_crash_between_publish_and_remember_is_one_event(
    settings: PlatformSettings,
    tmp_path: Path,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
    client_feedback_id: str | None,
) -> None:
    tenant, request_id = f"t-{unique}", f"req-{unique}"
    key = await publish_api_key(settings, tenant)
    await publish_once(settings, served(request_id, tenant), source="model_server")
    remember = FeedbackStore.remember_feedback
    crashes = [RuntimeError("the collector died after publishing")]

    def crash_once(store: FeedbackStore, *args: Any) -> None:
        if crashes:
            raise crashes.pop()
        remember(store, *args)

    monkeypatch.setattr(FeedbackStore, "remember_feedback", crash_once)
    body = {"request_id": request_id, "score_kind": "thumbs", "score": -1, "correction": "Within a day."}
    if client_feedback_id is not None:
        body["feedback_id"] = client_feedback_id
    with collector(settings, tmp_path, wait_seconds=10) as client:
        crashed = client.post("/v1/feedback", json=body, headers=bearer(key))
        retried = client.post("/v1/feedback", json=body, headers=bearer(key))

    assert (crashed.status_code, retried.status_code) == (500, 202)
    for topic in (FEEDBACK.name, DATA_RAW.name):
        logged = await read_topic(settings.kafka_bootstrap, topic, 10**6, timeout=2.0)
        records = [record for record in logged if tenant_of(record) == tenant]
        # Published twice, as the same event: consumers, idempotent by event id, and the monitor's
        # tables, which fold rows of one event id and time, keep one.
        assert len(records) == 2, topic
        assert len({headers_of(r)["ce_id"] for r in records}) == 1, topic
        assert len({(headers_of(r)["ce_time"], r.value) for r in records}) == 1, topic


async def test_feedback_on_another_tenants_request_answers_like_an_unknown_one_and_as_late(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    request_id, wait = f"req-{unique}", 1.0
    await publish_once(settings, served(request_id, f"t-{unique}"), source="model_server")
    other = await publish_api_key(settings, f"u-{unique}")
    with collector(settings, tmp_path, wait_seconds=wait) as client:
        store = client.app_state["deps"].store
        await eventually(lambda: store.request(request_id) is not None, timeout=20)

        def timed(asked_for: str) -> tuple[Any, float]:
            started = time.monotonic()
            body = {"request_id": asked_for, "score_kind": "thumbs", "score": 1}
            response = client.post("/v1/feedback", json=body, headers=bearer(other))
            return response, time.monotonic() - started

        foreign, foreign_seconds = timed(request_id)
        unknown, unknown_seconds = timed(f"nope-{unique}")

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["error"] == {**unknown.json()["error"], "detail": {"request_id": request_id}}
    assert foreign_seconds >= 0.9 * wait
    assert 0.5 < foreign_seconds / unknown_seconds < 2.0


def test_a_breaking_change_committed_with_its_regenerated_schema_fails_the_check(tmp_path: Path) -> None:
    released = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    broken = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    schema = tmp_path / "schemas" / "events" / "llmops.thing.v1.json"
    schema.parent.mkdir(parents=True)
    for version, message in ((released, "release"), (broken, "break it, schema regenerated")):
        schema.write_text(json.dumps(version))
        subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
        subprocess.run([*git, "commit", "-q", "-m", message], cwd=tmp_path, check=True)

    committed = [revision.schema for revision in schema_history(tmp_path)["llmops.thing.v1"]]

    # HEAD agrees with the code; the history still holds the released schema, which the code now breaks.
    assert committed[0] == broken
    assert any(breaking_changes(old, broken) for old in committed)


def served(request_id: str, tenant: str) -> InferenceCompletedV1:
    """A request whose text was captured, as feedback with a correction needs."""
    return served_request(
        request_id, tenant, prompt_text="How fast is support?", completion_text="Eventually.", text_capture="full"
    )


@contextmanager
def collector(settings: PlatformSettings, tmp_path: Path, *, wait_seconds: float) -> Iterator[TestClient]:
    collector_settings = CollectorSettings(
        **{**settings.model_dump(), "data_dir": tmp_path / "fc", "feedback_unknown_request_wait_seconds": wait_seconds}
    )
    with TestClient(create_collector(collector_settings), raise_server_exceptions=False) as client:
        yield client


def tenant_of(record: Any) -> str | None:
    """The record's tenant; None for records other tests left on the shared topic that are not JSON events."""
    try:
        document = json.loads(record.value)
    except (TypeError, ValueError):
        return None
    tenant: str | None = document.get("tenant") if isinstance(document, dict) else None
    return tenant


async def send(settings: PlatformSettings, topic: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, headers=headers)
    finally:
        await producer.stop()
