"""Synthetic inference traffic for the monitor's tests and benchmarks: stable or shifted, published with
the event times the test chooses (the sink stores the CloudEvents time as `event_time`)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from faststream.kafka import KafkaBroker

from llmops_common.events import Event, InferenceCompletedV1
from llmops_common.kafka.envelope import Envelope

SUPPORT_TOPICS = (
    "reset my account password",
    "update the billing address on my invoice",
    "cancel my subscription renewal",
    "change the email on my account",
    "why was my card charged twice",
    "download last month's invoice",
)
CUSTOMERS = ("Anna", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana")
SHIFTED_TOPICS = (
    "write a python function that parses json",
    "explain the difference between tcp and udp",
    "fix this segmentation fault in my c code",
    "how do I configure kubernetes ingress",
    "optimise this sql query with a join",
    "what does a rust borrow checker error mean",
)


@dataclass(frozen=True)
class TrafficShape:
    """The distributions one window of traffic is drawn from."""

    prompt_tokens_mean: float = 60
    completion_tokens_mean: float = 120
    latency_ms_mean: float = 400
    ttft_ms_mean: float = 80
    error_rate: float = 0.0
    cost_per_request_usd: float = 0.001
    topics: Sequence[str] = SUPPORT_TOPICS
    refusal_rate: float = 0.0


STABLE = TrafficShape()
SHIFTED = TrafficShape(prompt_tokens_mean=140, completion_tokens_mean=300, topics=SHIFTED_TOPICS)


def inference_event(
    rng: random.Random, shape: TrafficShape, *, model: str, tenant: str, at: datetime, adapter: str | None = "v1"
) -> InferenceCompletedV1:
    """One request drawn from `shape`, started at `at`."""
    failed = rng.random() < shape.error_rate
    prompt_tokens = max(1, round(rng.gauss(shape.prompt_tokens_mean, shape.prompt_tokens_mean / 5)))
    completion_tokens = (
        0 if failed else max(1, round(rng.gauss(shape.completion_tokens_mean, shape.completion_tokens_mean / 5)))
    )
    refused = not failed and rng.random() < shape.refusal_rate
    completion = "I'm sorry, I cannot help with that." if refused else " ".join(["word"] * (completion_tokens // 2))
    return InferenceCompletedV1(
        request_id=f"req-{uuid.uuid4().hex}",
        tenant=tenant,
        model_name=model,
        base_model="tiny-llama",
        adapter_version=adapter,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        time_to_first_token_ms=None if failed else max(1.0, rng.gauss(shape.ttft_ms_mean, shape.ttft_ms_mean / 5)),
        latency_ms=max(1.0, rng.gauss(shape.latency_ms_mean, shape.latency_ms_mean / 5)),
        cost_usd=shape.cost_per_request_usd,
        finish_reason="error" if failed else "stop",
        status="error" if failed else "ok",
        http_status=500 if failed else 200,
        started_at=at,
        prompt_text=f"{rng.choice(CUSTOMERS)}: {rng.choice(shape.topics)}, please",
        completion_text=None if failed else completion,
    )


def spread(start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` moments evenly spread over [start, end)."""
    step = (end - start) / count
    return [start + step * i for i in range(count)]


async def publish_at(broker: KafkaBroker, topic: str, items: Sequence[tuple[Event, datetime]]) -> None:
    """Publishes each event with its CloudEvents time set to the moment given, pipelined."""
    futures = []
    for event, at in items:
        envelope = Envelope(id=str(uuid.uuid4()), type=event.event_type, source="synthetic-traffic", time=at)
        futures.append(
            await broker.publish(
                event.model_dump_json().encode(),
                topic=topic,
                key=event.event_key().encode(),
                headers=envelope.headers(),
                no_confirm=True,
            )
        )
    for future in futures:
        await future


def window_traffic(
    rng: random.Random,
    shape: TrafficShape,
    start: datetime,
    count: int,
    *,
    model: str,
    tenant: str = "acme",
    length: timedelta = timedelta(hours=1),
) -> list[tuple[Event, datetime]]:
    """`count` requests of `shape` spread over [start, start + length), each with its time."""
    return [
        (inference_event(rng, shape, model=model, tenant=tenant, at=at), at)
        for at in spread(start, start + length, count)
    ]
