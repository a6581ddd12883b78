"""The telemetry buffer drops and counts rather than block, and publishes in batches."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from llmops_common.events import InferenceCompletedV1
from services.model_server.metrics import ServerMetrics
from services.model_server.settings import ModelPrice
from services.model_server.telemetry import TelemetryBuffer
from services.model_server.text_capture import captured_text, request_cost


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


async def test_batches_are_published_and_a_full_buffer_drops() -> None:
    registry = CollectorRegistry()
    batches: list[int] = []

    async def publish(batch: Sequence[InferenceCompletedV1]) -> None:
        batches.append(len(batch))

    buffer = TelemetryBuffer(
        publish, ServerMetrics(registry), capacity=5, batch_size=2, flush_seconds=0.01, publish_timeout=1
    )
    for number in range(7):
        buffer.record(event(number))
    assert value(registry, "llmops_telemetry_dropped_total") == 2
    await buffer.flush()
    assert batches == [2, 2, 1]
    assert value(registry, "llmops_telemetry_published_total") == 5


async def test_a_failing_or_hanging_broker_counts_drops() -> None:
    registry = CollectorRegistry()

    async def hang(batch: Sequence[InferenceCompletedV1]) -> None:
        await asyncio.sleep(10)

    buffer = TelemetryBuffer(
        hang, ServerMetrics(registry), capacity=10, batch_size=10, flush_seconds=0.01, publish_timeout=0.05
    )
    buffer.record(event(1))
    buffer.record(event(2))
    await buffer.flush()
    assert value(registry, "llmops_telemetry_dropped_total") == 2


def test_text_capture_and_cost() -> None:
    assert captured_text("mail ann@example.com", "redacted") == "mail [EMAIL]"
    assert captured_text("mail ann@example.com", "full") == "mail ann@example.com"
    assert captured_text("mail ann@example.com", "none") is None
    prices = {"b": ModelPrice(input_per_1k=0.5, output_per_1k=1.5)}
    assert request_cost(prices, "m", "b", 1000, 2000) == 3.5
    assert request_cost({}, "m", "b", 1000, 2000) == 0
