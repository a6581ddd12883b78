"""Every event type travels through its topic in a CloudEvents envelope and comes back equal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops_common.events import EVENT_MODELS, Event
from llmops_common.kafka.consumer import EventContext
from llmops_common.settings import PlatformSettings
from llmops_common.topics import topic_for_event
from tests.integration.kafka.conftest import BusFactory, make_topics
from tests.support.topic_reader import eventually, headers_of, read_topic

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
async def test_event_round_trips_through_its_topic(
    event_type: str, make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    model = EVENT_MODELS[event_type]
    sent = model.model_validate_json((EXAMPLES / f"{event_type}.json").read_text())
    topic = f"{topic_for_event(event_type).name}.{unique}"
    await make_topics(settings, topic)
    received: list[tuple[Event, EventContext]] = []

    async def handle(event: Event, context: EventContext) -> None:
        received.append((event, context))

    bus = make_bus(source="/llmops/test")
    bus.consumer.subscribe(topic, [model], handle, group_id=f"g-{unique}")
    await bus.start()
    envelope = await bus.publisher.publish(sent, topic=topic)

    await eventually(lambda: received)
    event, context = received[0]
    assert event == sent
    assert context.envelope.id == envelope.id
    assert context.key == sent.event_key().encode()
    [record] = await read_topic(settings.kafka_bootstrap, topic, 1)
    headers = headers_of(record)
    assert headers["ce_id"] == envelope.id
    assert headers["ce_type"] == event_type
    assert headers["ce_source"] == "/llmops/test"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_time"] == envelope.time.isoformat()
    assert headers["content-type"] == "application/json"
    assert "traceparent" not in headers
    assert json.loads(record.value) == json.loads(sent.model_dump_json())
