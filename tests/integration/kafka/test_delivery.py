"""Duplicates, malformed messages and failing handlers, against the real broker."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from llmops_common.errors import PermanentError
from llmops_common.events import AlertResolvedV1, FeedbackSubmittedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.kafka.envelope import new_envelope
from llmops_common.settings import PlatformSettings
from llmops_common.storage.errors import StoreUnavailableError
from llmops_common.topics import dead_letter_topic
from llmops_common.tracing import TraceContext, current_trace
from tests.integration.kafka.conftest import BusFactory, make_topics
from tests.support.topic_reader import eventually, headers_of, read_topic

REPO_ROOT = Path(__file__).resolve().parents[3]


def feedback(n: int) -> FeedbackSubmittedV1:
    return FeedbackSubmittedV1(
        feedback_id=f"fb-{n}",
        request_id=f"req-{n}",
        tenant="acme",
        score=1,
        submitted_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


async def recording_consumer(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> tuple[str, str, Bus, list[str]]:
    """A started bus whose handler records each feedback id; its topic, group, bus and the record."""
    topic, group = f"fb.{unique}", f"g-{unique}"
    await make_topics(settings, topic, dead_letter_topic(group))
    effects: list[str] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        effects.append(event.feedback_id)

    bus = make_bus()
    bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
    await bus.start()
    return topic, group, bus, effects


async def test_a_duplicate_delivered_twice_has_one_effect(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic, _, bus, effects = await recording_consumer(make_bus, settings, unique)
    event = feedback(1)
    envelope = new_envelope(event, "/test")
    for _ in range(2):  # the same ce_id twice, as a producer retry or a replay would deliver it
        await bus.broker.publish(event.model_dump_json().encode(), topic=topic, headers=envelope.headers())
    await bus.publisher.publish(feedback(2), topic=topic)

    await eventually(lambda: "fb-2" in effects)
    assert effects == ["fb-1", "fb-2"]


async def test_malformed_messages_go_to_the_dead_letter_topic_and_the_partition_keeps_flowing(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic, group, bus, effects = await recording_consumer(make_bus, settings, unique)
    good_headers = new_envelope(feedback(0), "/test").headers()
    await bus.broker.publish(b"not json", topic=topic, key=b"k1", headers=good_headers)
    await bus.broker.publish(b"{}", topic=topic, key=b"k2", headers={"content-type": "application/json"})
    wrong_type = new_envelope(feedback(0), "/test").headers() | {"ce_type": "llmops.nope.v1"}
    await bus.broker.publish(feedback(0).model_dump_json().encode(), topic=topic, key=b"k3", headers=wrong_type)
    await bus.publisher.publish(feedback(3), topic=topic)

    await eventually(lambda: effects == ["fb-3"])
    dead = await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 3)
    reasons = [headers_of(record) for record in dead]
    assert [record.value for record in dead] == [b"not json", b"{}", feedback(0).model_dump_json().encode()]
    assert [record.key for record in dead] == [b"k1", b"k2", b"k3"]
    assert {h["dlq_error_class"] for h in reasons} == {"InvalidEventError"}
    assert reasons[0]["dlq_reason"].startswith("llmops.feedback.submitted.v1 failed validation: <body>: Invalid JSON")
    assert reasons[1]["dlq_reason"] == ("not a CloudEvent: missing headers ce_id, ce_type, ce_source, ce_specversion")
    assert reasons[2]["dlq_reason"] == "unknown event type 'llmops.nope.v1' is not accepted here"
    assert [(h["dlq_topic"], h["dlq_partition"], h["dlq_offset"]) for h in reasons] == [
        (topic, "0", "0"),
        (topic, "0", "1"),
        (topic, "0", "2"),
    ]


async def test_a_header_that_is_not_utf8_is_dead_lettered_and_a_null_header_is_fine(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic, group, bus, effects = await recording_consumer(make_bus, settings, unique)
    headers = [(name, value.encode()) for name, value in new_envelope(feedback(4), "/test").headers().items()]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, feedback(4).model_dump_json().encode(), key=b"k4", headers=[*headers, ("x-bad", b"\xff\xfe")]
        )
        # Kafka allows a header without a value; FastStream's own parser cannot decode one.
        null_headers = [(name, value.encode()) for name, value in new_envelope(feedback(5), "/t").headers().items()]
        await producer.send_and_wait(
            topic, feedback(5).model_dump_json().encode(), headers=[*null_headers, ("x-null", None)]
        )
    finally:
        await producer.stop()
    await bus.publisher.publish(feedback(6), topic=topic)

    await eventually(lambda: effects == ["fb-5", "fb-6"])
    [dead] = await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1)
    reason = headers_of(dead)
    assert dead.key == b"k4"
    assert reason["dlq_error_class"] == "InvalidEventError"
    assert reason["dlq_reason"].startswith("a header is not UTF-8")
    assert reason["x-bad"] == "\ufffd\ufffd"


async def test_a_failing_handler_is_retried_then_dead_lettered_and_later_events_flow(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic, group = f"fb.{unique}", f"g-{unique}"
    await make_topics(settings, topic, dead_letter_topic(group))
    attempts: dict[str, int] = {}

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        attempts[event.feedback_id] = attempts.get(event.feedback_id, 0) + 1
        if event.feedback_id == "fb-1":
            raise ConnectionError("the store is down")
        if event.feedback_id == "fb-2":
            raise PermanentError("score does not fit this model")

    bus = make_bus(handler_max_attempts=3)
    bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
    await bus.start()
    for n in (1, 2, 3):
        await bus.publisher.publish(feedback(n), topic=topic)

    await eventually(lambda: "fb-3" in attempts)
    assert attempts == {"fb-1": 3, "fb-2": 1, "fb-3": 1}
    dead = [headers_of(r) for r in await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 2)]
    assert [(h["dlq_error_class"], h["dlq_reason"]) for h in dead] == [
        ("ConnectionError", "the store is down"),
        ("PermanentError", "score does not fit this model"),
    ]
    assert [h["ce_type"] for h in dead] == ["llmops.feedback.submitted.v1"] * 2


async def test_a_trace_carries_from_the_publisher_into_the_handler(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic = f"alerts.{unique}"
    await make_topics(settings, topic)
    seen: list[TraceContext | None] = []

    async def handle(event: AlertResolvedV1, context: EventContext) -> None:
        seen.append(current_trace.get())

    bus = make_bus()
    bus.consumer.subscribe(topic, [AlertResolvedV1], handle, group_id=f"g-{unique}")
    await bus.start()
    trace = TraceContext.new_root()
    token = current_trace.set(trace)
    try:
        event = AlertResolvedV1.model_validate_json(
            (REPO_ROOT / "schemas/examples/llmops.alert.resolved.v1.json").read_text()
        )
        envelope = await bus.publisher.publish(event, topic=topic)
    finally:
        current_trace.reset(token)

    await eventually(lambda: seen)
    assert envelope.traceparent is not None
    assert seen[0] is not None
    assert seen[0].trace_id == trace.trace_id
    assert seen[0].header() == envelope.traceparent


async def test_two_topics_of_one_group_are_read_by_kafka_groups_of_their_own(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    """Both topics flow, and a dead letter from either goes to the group's own dead-letter topic."""
    first, second, group = f"fb.{unique}.a", f"fb.{unique}.b", f"g-{unique}"
    await make_topics(settings, first, second, dead_letter_topic(group))
    effects: list[tuple[str, str]] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        if event.score < 0:
            raise PermanentError("negative score")
        effects.append((context.topic, event.feedback_id))

    bus = make_bus()
    subscribers = [
        bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group, kafka_group_id=f"{group}.{n}")
        for n, topic in enumerate((first, second))
    ]
    await bus.start()
    await bus.publisher.publish(feedback(1), topic=first)
    await bus.publisher.publish(feedback(2), topic=second)
    await bus.publisher.publish(feedback(3).model_copy(update={"score": -1}), topic=second)

    await eventually(lambda: len(effects) == 2)
    assert sorted(effects) == [(first, "fb-1"), (second, "fb-2")]
    assert [subscriber.group_id for subscriber in subscribers] == [f"{group}.0", f"{group}.1"]
    [dead] = [headers_of(r) for r in await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1)]
    assert (dead["dlq_topic"], dead["dlq_group"], dead["dlq_reason"]) == (second, group, "negative score")


async def test_a_store_briefly_away_is_waited_out_with_backoff_and_nothing_is_dead_lettered(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic, group = f"fb.{unique}", f"g-{unique}"
    await make_topics(settings, topic, dead_letter_topic(group))
    attempts: list[float] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        attempts.append(time.monotonic())
        if attempts[-1] < attempts[0] + 1.0:  # the store is away for a second from the first attempt
            raise StoreUnavailableError("ClickHouse does not answer")

    bus = make_bus(handler_max_attempts=3, handler_retry_max_seconds=10.0, handler_backoff_max_seconds=0.2)
    bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
    await bus.start()
    await bus.publisher.publish(feedback(1), topic=topic)

    await eventually(lambda: attempts and attempts[-1] >= attempts[0] + 1.0)
    assert len(attempts) > 3  # more than the attempts a failure of unknown kind gets
    assert max(b - a for a, b in itertools.pairwise(attempts)) <= 0.2 + 0.1  # the backoff is capped
    assert await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1, timeout=1.0) == []


async def test_a_store_away_past_the_retry_bound_dead_letters_the_event_and_later_events_flow(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic, group = f"fb.{unique}", f"g-{unique}"
    await make_topics(settings, topic, dead_letter_topic(group))
    handled: list[str] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        if event.feedback_id == "fb-1":
            raise StoreUnavailableError("ClickHouse does not answer")
        handled.append(event.feedback_id)

    bus = make_bus(handler_retry_max_seconds=0.5, handler_backoff_max_seconds=0.1)
    bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
    await bus.start()
    started = time.monotonic()
    await bus.publisher.publish(feedback(1), topic=topic)
    await bus.publisher.publish(feedback(2), topic=topic)

    await eventually(lambda: handled == ["fb-2"])
    assert time.monotonic() - started >= 0.4
    [dead] = [headers_of(r) for r in await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1)]
    assert (dead["dlq_error_class"], dead["dlq_reason"]) == ("StoreUnavailableError", "ClickHouse does not answer")
