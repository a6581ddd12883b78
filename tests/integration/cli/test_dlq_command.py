"""`llmops dlq list|replay` against the real broker: a dead letter is listed with its reason, and once the
cause is fixed a replay puts it through the group's handler, once however often it is replayed."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner, Result

from llmops_common.cli.main import app
from llmops_common.errors import PermanentError
from llmops_common.events import FeedbackSubmittedV1
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.settings import PlatformSettings
from llmops_common.topics import dead_letter_topic
from tests.support.topic_reader import eventually, read_topic


def feedback(feedback_id: str) -> FeedbackSubmittedV1:
    return FeedbackSubmittedV1(
        feedback_id=feedback_id, request_id="r", tenant="acme", score=1, submitted_at=datetime.now(UTC)
    )


async def llmops(*args: str) -> Result:
    """Runs the CLI in a thread: it runs an event loop of its own."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_a_dead_letter_is_listed_then_replayed_into_the_handler_once(
    settings: PlatformSettings, tmp_path: Path, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    topic, group = f"fb.{unique}", f"g-{unique}"
    await create_topics(settings, [_topic(topic), _topic(dead_letter_topic(group))])
    fixed = False
    handled: list[str] = []

    async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
        if event.feedback_id == "poison" and not fixed:
            raise PermanentError("no model named support-bot")
        handled.append(event.feedback_id)

    bus = Bus.create(settings, source="test", state_dir=tmp_path / "state", registry=CollectorRegistry())
    bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
    await bus.start()
    try:
        poison = await bus.publisher.publish(feedback("poison"), topic=topic)
        await bus.publisher.publish(feedback("fine"), topic=topic)
        await eventually(lambda: handled == ["fine"])
        await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), 1)

        listed = await llmops("dlq", "list", topic, "--json")
        by_dead_letter_topic = await llmops("dlq", "list", dead_letter_topic(group))
        unknown = await llmops("dlq", "replay", topic, "--event-id", "no-such-event")

        assert listed.exit_code == 0, listed.output
        [letter] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert {key: letter[key] for key in ("group", "event_id", "event_type", "topic", "partition", "offset")} == {
            "group": group,
            "event_id": poison.id,
            "event_type": "llmops.feedback.submitted.v1",
            "topic": topic,
            "partition": "0",
            "offset": "0",
        }
        assert (letter["error_class"], letter["reason"]) == ("PermanentError", "no model named support-bot")
        assert datetime.fromisoformat(letter["dead_lettered_at"]) <= datetime.now(UTC)
        assert by_dead_letter_topic.exit_code == 0, by_dead_letter_topic.output
        assert poison.id in by_dead_letter_topic.stdout
        assert "1 dead letter\n" in by_dead_letter_topic.stdout
        assert unknown.exit_code == 1
        assert f"no dead letter of {topic} has event id no-such-event" in unknown.output

        fixed = True
        replayed = await llmops("dlq", "replay", topic, "--event-id", poison.id)
        assert replayed.exit_code == 0, replayed.output
        assert "replayed 1 dead letter\n" in replayed.stdout
        await eventually(lambda: handled == ["fine", "poison"])

        # A second replay is the same event again: the group handled it, so it is skipped.
        again = await llmops("dlq", "replay", topic)
        assert again.exit_code == 0, again.output
        await bus.publisher.publish(feedback("after"), topic=topic)
        await eventually(lambda: "after" in handled)
    finally:
        await bus.close()
    assert handled == ["fine", "poison", "after"]


def _topic(name: str) -> NewTopic:
    return NewTopic(name, 1, 1)
