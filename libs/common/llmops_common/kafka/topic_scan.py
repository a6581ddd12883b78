"""Reads topics from their beginning without a consumer group: to their current end, or on as they grow.

For short-lived readers such as the CLI: `llmops train status` wants what the topics hold now, and
`llmops train watch` what they hold and what comes after. A scan commits nothing and joins no group,
so it never moves a service's offsets and needs no rebalance to start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from ..errors import InvalidEventError
from ..events import Event
from ..settings import PlatformSettings
from ..topics import TopicSpec
from .broker import client_kwargs
from .envelope import Envelope, decode_event, decode_headers, parse_envelope

log = logging.getLogger(__name__)

POLL_WAIT_MS = 100
"""How long one poll waits for records: how late a follower sees a new event, at a fetch per wait."""
METADATA_WAIT_SECONDS = 5.0
"""How long a required topic that was just created may take to list its partitions."""


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as it lies on its topic, with the envelope that says when and by whom it was published."""

    event: Event
    envelope: Envelope
    topic: str


class MissingTopicError(LookupError):
    """A topic the scan requires does not exist on the broker."""


class TopicScan:
    """One consumer over every partition of some topics, from the beginning; use as `async with`.

    Topics that do not exist are left out, unless `require` is set: then they are waited for a moment
    (metadata of a topic just created can lag) and are an error if they still do not exist.
    """

    def __init__(
        self,
        settings: PlatformSettings,
        topics: Sequence[TopicSpec],
        *,
        require: bool = False,
        poll_wait_ms: int = POLL_WAIT_MS,
    ) -> None:
        self._settings = settings
        self._topics = topics
        self._require = require
        self._poll_wait_ms = poll_wait_ms
        self._accepted = {model.event_type: model for spec in topics for model in spec.events}
        self._consumer: AIOKafkaConsumer | None = None
        self._end_at_start: dict[TopicPartition, int] = {}
        self.skipped = 0
        """Records that were not valid events of their topic; logged and passed over."""

    async def __aenter__(self) -> TopicScan:
        consumer = AIOKafkaConsumer(
            **client_kwargs(self._settings),
            enable_auto_commit=False,
            fetch_max_wait_ms=self._poll_wait_ms,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        try:
            await consumer.start()
            partitions = [tp for spec in self._topics for tp in await self._partitions(consumer, spec.name)]
            consumer.assign(partitions)
            if partitions:
                await consumer.seek_to_beginning(*partitions)
                self._end_at_start = dict(await consumer.end_offsets(partitions))
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def poll(self) -> list[LoggedEvent]:
        """The next events in log order per partition; empty when none came within the poll wait."""
        consumer = self._running()
        if not self._end_at_start:
            # Nothing assigned: aiokafka would raise instead of waiting.
            await asyncio.sleep(self._poll_wait_ms / 1000)
            return []
        batches = await consumer.getmany(timeout_ms=self._poll_wait_ms, max_records=5000)
        return [logged for records in batches.values() for record in records if (logged := self._decode(record))]

    async def at_end(self) -> bool:
        """Whether every event the topics held when the scan started has been read."""
        consumer = self._running()
        for partition, end in self._end_at_start.items():
            # `position` is the next offset to read: at the end offset seen at start, that partition is done.
            if await consumer.position(partition) < end:
                return False
        return True

    def _running(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("a TopicScan is used inside `async with`")
        return self._consumer

    async def _partitions(self, consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (METADATA_WAIT_SECONDS if self._require else 0.0)
        while True:
            if topic in await consumer.topics():  # refreshes the cluster metadata
                partitions = consumer.partitions_for_topic(topic)
                if partitions:
                    return [TopicPartition(topic, p) for p in sorted(partitions)]
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.1)
        if self._require:
            raise MissingTopicError(f"topic {topic} does not exist on the broker at {self._settings.kafka_bootstrap}")
        return []

    def _decode(self, record: ConsumerRecord[Any, Any]) -> LoggedEvent | None:
        if record.value is None:
            return None  # a tombstone: compaction's deletion marker, not an event
        try:
            envelope = parse_envelope(decode_headers(record.headers))
            event = decode_event(envelope, record.value, self._accepted)
        except InvalidEventError as error:
            self.skipped += 1
            log.warning(
                "scan skipped a record", extra={"topic": record.topic, "offset": record.offset, "error": str(error)}
            )
            return None
        return LoggedEvent(event, envelope, record.topic)


async def read_to_end(settings: PlatformSettings, *topics: TopicSpec) -> list[LoggedEvent]:
    """Every valid event the topics hold now, in log order per partition; a missing topic holds none."""
    events: list[LoggedEvent] = []
    async with TopicScan(settings, topics) as scan:
        while not await scan.at_end():
            events += await scan.poll()
    return events
