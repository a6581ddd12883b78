"""A topic replica replays the topic, follows it, and tells a writer when its event is applied."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmops_common.errors import RequestTimeoutError
from llmops_common.events import Event, PromptVersionCreatedV1
from llmops_common.kafka.envelope import Envelope
from llmops_common.kafka.replica import TopicReplica
from llmops_common.settings import PlatformSettings
from llmops_common.topics import PROMPTS, TopicSpec
from tests.integration.kafka.conftest import BusFactory, make_topics
from tests.support.topic_reader import eventually


def version(n: int) -> PromptVersionCreatedV1:
    return PromptVersionCreatedV1(
        tenant="acme",
        name="answer",
        version=n,
        kind="text",
        template=f"v{n}",
        author="key-1",
        created_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


def prompts_topic(unique: str) -> TopicSpec:
    return TopicSpec(f"prompts.{unique}", "a test's prompts", PROMPTS.key, PROMPTS.events, (), (), "compact")


async def test_a_replica_replays_then_follows_and_acknowledges_applied_events(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic = prompts_topic(unique)
    await make_topics(settings, topic.name, partitions=2)
    bus = make_bus()
    await bus.start()
    await bus.publisher.publish_many([version(n) for n in (1, 2, 3)], topic=topic.name)
    seen: list[int] = []

    def apply(event: Event, envelope: Envelope) -> None:
        assert isinstance(event, PromptVersionCreatedV1)
        seen.append(event.version)

    replica = TopicReplica(settings, topic, apply)
    await replica.start()
    try:
        await replica.wait_caught_up(timeout=10)
        assert sorted(seen) == [1, 2, 3]
        assert replica.caught_up

        envelope = await bus.publisher.publish(version(4), topic=topic.name)
        await replica.wait_applied(envelope.id, timeout=10)
        assert seen[-1] == 4
        await replica.wait_applied(envelope.id, timeout=0.01)  # asking again, late, returns at once
    finally:
        await replica.close()


async def test_an_empty_topic_is_caught_up_at_once_and_bad_records_are_skipped(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic = prompts_topic(unique)
    await make_topics(settings, topic.name)
    replica = TopicReplica(settings, topic, lambda event, envelope: None)
    await replica.start()
    try:
        await replica.wait_caught_up(timeout=10)
        bus = make_bus()
        await bus.start()
        await bus.broker.publish(b"not an event", topic=topic.name)
        await eventually(lambda: replica.skipped == 1)
        with pytest.raises(RequestTimeoutError, match="did not come back"):
            await replica.wait_applied("no-such-event", timeout=0.2)
    finally:
        await replica.close()
