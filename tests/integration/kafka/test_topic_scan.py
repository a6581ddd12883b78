"""A topic scan reads topics to the end they had when it started, or follows them, without a group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmops_common.events import TrainingCancelRequestedV1, TrainingProgressV1
from llmops_common.kafka.topic_scan import MissingTopicError, TopicScan, read_to_end
from llmops_common.settings import PlatformSettings
from llmops_common.topics import TRAINING_CONTROL, TRAINING_PROGRESS, TopicSpec
from tests.integration.kafka.conftest import BusFactory, make_topics


def topic_like(spec: TopicSpec, unique: str) -> TopicSpec:
    return TopicSpec(f"{spec.name}.{unique}", "a test's topic", spec.key, spec.events, (), ())


def progress(job_id: str, step: int) -> TrainingProgressV1:
    at = datetime(2025, 3, 4, tzinfo=UTC)
    return TrainingProgressV1(job_id=job_id, tenant="acme", model_name="m", step=step, total_steps=9, at=at)


async def test_read_to_end_takes_every_valid_event_of_every_topic_and_skips_the_rest(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    progress_topic, control_topic = topic_like(TRAINING_PROGRESS, unique), topic_like(TRAINING_CONTROL, unique)
    await make_topics(settings, progress_topic.name, control_topic.name, partitions=3)
    bus = make_bus()
    await bus.start()
    await bus.publisher.publish_many([progress(f"j{n}", n) for n in range(6)], topic=progress_topic.name)
    await bus.publisher.publish(TrainingCancelRequestedV1(job_id="j1"), topic=control_topic.name)
    await bus.broker.publish(b"not an event", topic=control_topic.name)

    async with TopicScan(settings, [progress_topic, control_topic]) as scan:
        events = []
        while not await scan.at_end():
            events += await scan.poll()

    assert sorted((e.topic, e.event.job_id) for e in events) == [  # type: ignore[attr-defined]
        (control_topic.name, "j1"),
        *((progress_topic.name, f"j{n}") for n in range(6)),
    ]
    assert scan.skipped == 1
    assert all(entry.envelope.source == "test" for entry in events)


async def test_a_missing_topic_holds_nothing_unless_it_is_required(settings: PlatformSettings, unique: str) -> None:
    missing = topic_like(TRAINING_PROGRESS, unique)

    assert await read_to_end(settings, missing) == []
    with pytest.raises(MissingTopicError, match=f"topic {missing.name} does not exist"):
        async with TopicScan(settings, [missing], require=True):
            pass


async def test_a_scan_follows_events_published_after_it_started(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    topic = topic_like(TRAINING_PROGRESS, unique)
    await make_topics(settings, topic.name)
    bus = make_bus()
    await bus.start()
    await bus.publisher.publish(progress("j", 1), topic=topic.name)

    async with TopicScan(settings, [topic]) as scan:
        before = [entry.event for entry in await scan.poll()]
        await bus.publisher.publish(progress("j", 2), topic=topic.name)
        after = []
        for _ in range(50):
            after += [entry.event for entry in await scan.poll()]
            if after:
                break

    assert (before, after) == ([progress("j", 1)], [progress("j", 2)])
