"""Monitor fixtures: a migrated chdb store, telemetry topics of the test's own, and a sink over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.batch_consumer import BatchConsumer, BatchLimits
from llmops_common.kafka.broker import build_broker
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore, open_artifact_store
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store
from services.monitor.sink import PreparedBatch
from services.monitor.sink_runner import profile_reader, running_sink
from services.monitor.telemetry_rows import TableRoute, telemetry_routes

START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def inference(n: int, *, tenant: str = "acme", model: str = "support-bot") -> InferenceCompletedV1:
    """The n-th synthetic request: varied tokens, latency and cost; every tenth one failed."""
    failed = n % 10 == 0
    return InferenceCompletedV1(
        request_id=f"req-{n}",
        tenant=tenant,
        model_name=model,
        base_model="tiny-llama",
        adapter_version="v1" if n % 2 else "v2",
        prompt_tokens=10 + n % 7,
        completion_tokens=0 if failed else 20 + n % 5,
        time_to_first_token_ms=None if failed else 5.0 + n % 3,
        latency_ms=50.0 + n % 11,
        cost_usd=0.001 * (n % 4),
        finish_reason="error" if failed else "stop",
        status="error" if failed else "ok",
        http_status=500 if failed else 200,
        started_at=START + timedelta(seconds=n),
    )


@pytest.fixture
def artifacts(settings: PlatformSettings) -> ArtifactStore:
    return open_artifact_store(settings)


@pytest.fixture
def telemetry(settings: PlatformSettings, tmp_path: Path) -> Iterator[TelemetryStore]:
    store = open_telemetry_store(settings, tmp_path / "monitor")
    yield store
    store.close()


@pytest.fixture
async def topic_routes(settings: PlatformSettings, unique: str, artifacts: ArtifactStore) -> dict[str, TableRoute]:
    """Each telemetry route, on a topic named after its catalog topic and this test."""
    routes = {f"{name}.{unique}": route for name, route in telemetry_routes(profile_reader(artifacts)).items()}
    await create_topics(settings, [NewTopic(name, 3, 1) for name in routes])
    return routes


def topic_of(routes: dict[str, TableRoute], table: str) -> str:
    return next(topic for topic, route in routes.items() if route.table == table)


@pytest.fixture
async def broker(settings: PlatformSettings) -> AsyncIterator[KafkaBroker]:
    """A connected broker to publish the test's events with."""
    broker = build_broker(settings, client_id="monitor-test")
    await broker.connect()
    yield broker
    await broker.stop()


@pytest.fixture
def publisher(broker: KafkaBroker) -> EventPublisher:
    return EventPublisher(broker, "/monitor-test")


SinkFactory = Callable[[str], AbstractAsyncContextManager[BatchConsumer[PreparedBatch]]]


@pytest.fixture
async def sink(
    settings: PlatformSettings, telemetry: TelemetryStore, topic_routes: dict[str, TableRoute]
) -> AsyncIterator[SinkFactory]:
    """Runs the sink over the test's topics in a consumer group the caller names."""
    broker = build_broker(settings, client_id="monitor-sink-test")

    def start(group: str) -> AbstractAsyncContextManager[BatchConsumer[PreparedBatch]]:
        return running_sink(
            settings,
            telemetry,
            topic_routes,
            broker=broker,
            registry=CollectorRegistry(),
            limits=BatchLimits(max_records=1000, max_wait_seconds=0.2),
            group_id=group,
        )

    yield start
    await broker.stop()
