"""The telemetry buffer publishes in batches, never blocks a request, spills what the broker does not take
to disk and sends it later with the same event ids; only what the spill folder cannot hold is dropped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry

from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.envelope import new_envelope
from services.model_server.metrics import ServerMetrics
from services.model_server.settings import ModelPrice
from services.model_server.telemetry import TelemetryBuffer
from services.model_server.telemetry_spill import Pending, TelemetrySpill
from services.model_server.text_capture import captured_text, request_cost
from tests.support.topic_reader import eventually


def event(number: int) -> InferenceCompletedV1:
    return InferenceCompletedV1(
        request_id=f"r{number}",
        tenant="t",
        model_name="m",
        base_model="b",
        prompt_tokens=1,
        completion_tokens=1,
        latency_ms=1,
        status="ok",
        http_status=200,
        started_at=datetime.now(UTC),
    )


def value(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(name) or 0.0


class FlakyBroker:
    """Publishes into a list, after failing (or hanging) while `away` is set."""

    def __init__(self, *, away: bool = False, hang: bool = False) -> None:
        self.away, self.hang = away, hang
        self.published: list[Pending] = []
        self.batches: list[int] = []
        self.refused_event_ids: set[str] = set()

    async def publish(self, batch: Sequence[Pending]) -> None:
        if self.away:
            self.refused_event_ids.update(envelope.id for envelope, _ in batch)
            if self.hang:
                await asyncio.sleep(10)
            raise KafkaConnectionError("the broker is away")
        self.published += batch
        self.batches.append(len(batch))

    def request_ids(self) -> list[str]:
        return sorted(event.request_id for _, event in self.published)


def buffer_of(
    broker: FlakyBroker, registry: CollectorRegistry, folder: Path, *, max_bytes: int = 1 << 20, **limits: float
) -> TelemetryBuffer:
    options = {"capacity": 5, "batch_size": 2, "flush_seconds": 0.01, "publish_timeout": 0.05, **limits}
    return TelemetryBuffer(
        broker.publish,
        ServerMetrics(registry),
        TelemetrySpill(folder, max_bytes),
        source="model_server",
        capacity=int(options["capacity"]),
        batch_size=int(options["batch_size"]),
        flush_seconds=options["flush_seconds"],
        publish_timeout=options["publish_timeout"],
    )


@asynccontextmanager
async def running(buffer: TelemetryBuffer) -> AsyncIterator[None]:
    task = asyncio.create_task(buffer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_batches_are_published_and_a_full_buffer_spills_its_oldest_batch(tmp_path: Path) -> None:
    registry, broker = CollectorRegistry(), FlakyBroker()
    buffer = buffer_of(broker, registry, tmp_path)
    for number in range(7):
        buffer.record(event(number))
    assert value(registry, "llmops_telemetry_spilled_total") == 2
    assert value(registry, "llmops_telemetry_spill_backlog") == 2
    await buffer.flush()
    assert broker.batches == [2, 2, 1]

    async with running(buffer):
        await eventually(lambda: len(broker.published) == 7)
    assert broker.request_ids() == [f"r{number}" for number in range(7)]
    assert value(registry, "llmops_telemetry_published_total") == 7
    assert value(registry, "llmops_telemetry_dropped_total") == 0
    assert value(registry, "llmops_telemetry_spill_backlog") == 0
    assert TelemetrySpill(tmp_path, 1 << 20).events == 0  # the files are gone


async def test_what_a_failing_broker_did_not_take_is_sent_once_it_is_back_with_the_same_event_ids(
    tmp_path: Path,
) -> None:
    registry, broker = CollectorRegistry(), FlakyBroker(away=True)
    buffer = buffer_of(broker, registry, tmp_path, capacity=100)
    async with running(buffer):
        for number in range(5):
            buffer.record(event(number))
        await eventually(lambda: value(registry, "llmops_telemetry_spilled_total") == 5)
        broker.away = False
        await eventually(lambda: len(broker.published) == 5)

    assert broker.request_ids() == [f"r{number}" for number in range(5)]
    assert {envelope.id for envelope, _ in broker.published} == broker.refused_event_ids
    assert value(registry, "llmops_telemetry_dropped_total") == 0


async def test_a_hanging_broker_at_shutdown_spills_what_memory_holds(tmp_path: Path) -> None:
    registry, broker = CollectorRegistry(), FlakyBroker(away=True, hang=True)
    buffer = buffer_of(broker, registry, tmp_path, capacity=10, batch_size=10)
    buffer.record(event(1))
    buffer.record(event(2))
    await buffer.flush()
    assert value(registry, "llmops_telemetry_spilled_total") == 2
    assert value(registry, "llmops_telemetry_dropped_total") == 0

    # The next process of the server finds the spill folder and sends it.
    broker.away = False
    restarted = buffer_of(broker, CollectorRegistry(), tmp_path)
    async with running(restarted):
        await eventually(lambda: len(broker.published) == 2)
    assert broker.request_ids() == ["r1", "r2"]


async def test_only_what_the_spill_folder_cannot_hold_is_dropped_and_counted(tmp_path: Path) -> None:
    registry, broker = CollectorRegistry(), FlakyBroker(away=True)
    buffer = buffer_of(broker, registry, tmp_path, max_bytes=0)
    buffer.record(event(1))
    buffer.record(event(2))
    await buffer.flush()
    assert value(registry, "llmops_telemetry_dropped_total") == 2
    assert value(registry, "llmops_telemetry_spilled_total") == 0


def test_a_spilled_line_that_no_longer_parses_is_counted_as_dropped(tmp_path: Path) -> None:
    spill = TelemetrySpill(tmp_path, 1 << 20)
    assert spill.write([(new_envelope(event(1), "model_server"), event(1))])
    [path] = tmp_path.iterdir()
    path.write_bytes(path.read_bytes() + b"{not json\n")

    batch = TelemetrySpill(tmp_path, 1 << 20).oldest()

    assert batch is not None
    assert [spilled.request_id for _, spilled in batch.pending] == ["r1"]
    assert batch.unreadable == 1


def test_text_capture_and_cost() -> None:
    assert captured_text("mail ann@example.com", "redacted") == "mail [EMAIL]"
    assert captured_text("mail ann@example.com", "full") == "mail ann@example.com"
    assert captured_text("mail ann@example.com", "none") is None
    prices = {"b": ModelPrice(input_per_1k=0.5, output_per_1k=1.5)}
    assert request_cost(prices, "m", "b", 1000, 2000) == 3.5
    assert request_cost({}, "m", "b", 1000, 2000) == 0
