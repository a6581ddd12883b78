"""Poison records go to the consumer group's dead-letter topic, untouched and with the reason, while the
partition they sit in keeps flowing: every good event behind them reaches the derived state.

Run against both consumer machineries: ingestion's per-event `EventConsumer` and the monitor sink's
`BatchConsumer`. Every record has the same key, so all of them share one partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer

from llmops_common.kafka.dead_letter_log import read_dead_letters
from llmops_common.kafka.envelope import new_envelope
from llmops_common.topics import dead_letter_topic
from tests.reliability.conftest import Launch, Platform
from tests.reliability.streams import IngestionStream, MonitorStream, PublishedStream
from tests.support.consumer_groups import wait_caught_up

pytestmark = pytest.mark.integration

GOOD = 40
KEY = b"one-partition"


@dataclass(frozen=True)
class Poison:
    """A record no consumer can take, and the error class its dead letter must name."""

    value: bytes
    headers: list[tuple[str, bytes]]
    error_class: str


def poisons(stream: PublishedStream) -> list[Poison]:
    """Four kinds of poison: a body that is not JSON, a body that breaks the event's schema, an event type
    the topic does not carry, and a record without CloudEvents headers."""
    envelope = new_envelope(stream.events[0], "/poison")
    good_headers = [(name, value.encode()) for name, value in envelope.headers().items()]
    unknown_type = [(n, b"llmops.unknown.happened.v1" if n == "ce_type" else v) for n, v in good_headers]
    return [
        Poison(b"\xff\xfe not json", good_headers, "InvalidEventError"),
        Poison(b'{"tenant": 42}', good_headers, "InvalidEventError"),
        Poison(stream.events[0].model_dump_json().encode(), unknown_type, "InvalidEventError"),
        Poison(stream.events[0].model_dump_json().encode(), [], "InvalidEventError"),
    ]


async def publish_interleaved(platform: Platform, topic: str, stream: PublishedStream, poison: list[Poison]) -> None:
    """The good events in order, with a poison record after every tenth, all under one key."""
    producer = AIOKafkaProducer(bootstrap_servers=platform.bootstrap, acks="all")
    await producer.start()
    try:
        for number, event in enumerate(stream.events):
            headers = [(name, value.encode()) for name, value in new_envelope(event, "/test").headers().items()]
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=KEY, headers=headers)
            if number % 10 == 9:
                bad = poison[number // 10]
                await producer.send_and_wait(topic, bad.value, key=KEY, headers=bad.headers)
    finally:
        await producer.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("stream_class", "dead_letter_group"), [(IngestionStream, "ingestion"), (MonitorStream, "monitor")]
)
async def test_poison_records_are_dead_lettered_and_the_partition_keeps_flowing(
    stream_class: type[PublishedStream], dead_letter_group: str, platform: Platform, launch: Launch, unique: str
) -> None:
    stream = stream_class(platform, unique, GOOD)
    await stream.prepare()
    launcher = launch(stream.service, **stream.settings)
    await launcher.start_ready()
    [topic] = stream.topics
    poison = poisons(stream)

    await publish_interleaved(platform, topic, stream, poison)
    stream.fed = GOOD
    assert stream.group is not None
    await wait_caught_up(platform.bootstrap, stream.group, stream.topics, timeout=60)

    assert await stream.derived(launcher) == stream.expected()
    letters = await read_dead_letters(platform.settings, dead_letter_topic(dead_letter_group))
    assert [(letter.value, letter.key) for letter in letters] == [(bad.value, KEY) for bad in poison]
    assert [letter.header("dlq_error_class") for letter in letters] == [bad.error_class for bad in poison]
    assert all(letter.original_topic == topic for letter in letters)
    assert {letter.group for letter in letters} == {dead_letter_group}
    # One partition held them all, at the offsets of a poison record after every ten good ones.
    assert {letter.header("dlq_partition") for letter in letters} == {letters[0].header("dlq_partition")}
    assert [int(letter.header("dlq_offset")) for letter in letters] == [10, 21, 32, 43]
    assert all(letter.reason.strip(": ") for letter in letters)
