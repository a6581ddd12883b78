"""Reads what the dead-letter topics hold, and replays dead letters onto the topics they came from.

For `llmops dlq`. A dead letter keeps the original key, value and headers, plus `dlq_*` headers that
say why and where from (see `send_to_dead_letter`). A replay publishes the original record again, as
it was, so its event id is the same: a consumer group that had handled it skips it, and the group that
dead-lettered it (which never marks a dead-lettered id as handled) takes it through its handler again.
Reading commits nothing and joins no group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from ..settings import PlatformSettings
from ..topics import DEAD_LETTER_PREFIX, dead_letter_topic
from .broker import client_kwargs

POLL_WAIT_MS = 200
DLQ_HEADER_PREFIX = "dlq_"


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, and what its headers say about it."""

    dead_letter_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        """The dead letter a record of a dead-letter topic holds."""
        headers = tuple((name, value or b"") for name, value in record.headers)
        return cls(record.topic, record.partition, record.offset, record.key, record.value, headers, record.timestamp)

    def header(self, name: str) -> str:
        """A header's value as text; empty when absent."""
        for header, value in self.headers:
            if header == name:
                return value.decode(errors="replace")
        return ""

    @property
    def original_topic(self) -> str:
        """The topic the record was consumed from."""
        return self.header("dlq_topic")

    @property
    def group(self) -> str:
        """The consumer group that gave up on it."""
        return self.header("dlq_group")

    @property
    def event_id(self) -> str:
        """The CloudEvents id; empty for a record that was not a valid event."""
        return self.header("ce_id")

    @property
    def event_type(self) -> str:
        """The CloudEvents type; empty for a record that was not a valid event."""
        return self.header("ce_type")

    @property
    def reason(self) -> str:
        """The error class and message that sent it here."""
        return f"{self.header('dlq_error_class')}: {self.header('dlq_reason')}"

    @property
    def origin(self) -> str:
        """Where it was read from: topic, partition and offset."""
        return f"{self.original_topic}[{self.header('dlq_partition')}]@{self.header('dlq_offset')}"

    @property
    def dead_lettered_at(self) -> datetime:
        """When it was dead-lettered (the broker's timestamp of the dead-letter record)."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers it was published with, without those the dead-lettering added."""
        return [(name, value) for name, value in self.headers if not name.startswith(DLQ_HEADER_PREFIX)]


def dead_letter_topics_of(topic: str, existing: Iterable[str], group: str | None = None) -> list[str]:
    """The dead-letter topics to read for `topic`: the topic itself when it is one, else every group's
    (or `group`'s) dead-letter topic that exists."""
    if topic.startswith(DEAD_LETTER_PREFIX):
        return [topic]
    if group is not None:
        return [dead_letter_topic(group)]
    return sorted(name for name in existing if name.startswith(DEAD_LETTER_PREFIX))


async def read_dead_letters(settings: PlatformSettings, topic: str, *, group: str | None = None) -> list[DeadLetter]:
    """The dead letters of `topic`, oldest first.

    `topic` is the topic the events were consumed from, or a dead-letter topic (`llmops.dlq.<group>`),
    whose letters are then all listed; `group` narrows an original topic to one group's dead letters.
    """
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False, fetch_max_wait_ms=POLL_WAIT_MS)
    await consumer.start()
    try:
        names = dead_letter_topics_of(topic, await consumer.topics(), group)
        records = await _read_to_end(consumer, names)
    finally:
        await consumer.stop()
    letters = sorted((DeadLetter.of(record) for record in records), key=lambda letter: letter.timestamp_ms)
    if topic.startswith(DEAD_LETTER_PREFIX):
        return letters
    return [letter for letter in letters if letter.original_topic == topic]


async def replay(settings: PlatformSettings, letters: Sequence[DeadLetter]) -> int:
    """Publishes each dead letter's original record onto its original topic; returns how many went."""
    producer = AIOKafkaProducer(**client_kwargs(settings), acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(letter.original_topic, letter.value, key=letter.key, headers=letter.original_headers())
            for letter in letters
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return len(sent)


async def _read_to_end(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[ConsumerRecord[bytes, bytes]]:
    partitions = [
        TopicPartition(topic, partition) for topic in topics for partition in consumer.partitions_for_topic(topic) or ()
    ]
    if not partitions:
        return []
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    records: list[ConsumerRecord[bytes, bytes]] = []
    while await _behind(consumer, ends):
        batches = await consumer.getmany(timeout_ms=POLL_WAIT_MS)
        records += [record for batch in batches.values() for record in batch]
    return records


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether some partition has records left before the end it had when the read began."""
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False
