"""Mirrors a topic into memory: reads it from the beginning, then follows it.

For the compacted topics that hold a table every instance needs in full (prompts, API keys, the
deployment table), as Confluent's schema registry replays `_schemas`. A replica belongs to no
consumer group and commits nothing: each instance reads every partition itself, and a restart
replays the topic again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from ..errors import InvalidEventError, RequestTimeoutError
from ..events import Event
from ..settings import PlatformSettings
from ..topics import TopicSpec
from .broker import client_kwargs
from .envelope import Envelope, decode_event, decode_headers, parse_envelope

log = logging.getLogger(__name__)

Apply = Callable[[Event, Envelope], None]
"""Applies one event to the replica's state, in log order."""

POLL_WAIT_MS = 5
"""How long a fetch waits at the broker when the topic is quiet: it bounds how late a change is seen,
and a writer waits that long at most to read its own event back. The cost is a small fetch every few
milliseconds per replica while nothing changes."""
REMEMBERED_EVENT_IDS = 10_000
"""Recently applied event ids kept, so a writer that asks late still learns its event was applied."""


class TopicReplica:
    """Applies every event of one topic to a state object, in log order, for as long as it runs."""

    def __init__(
        self, settings: PlatformSettings, topic: TopicSpec, apply: Apply, *, poll_wait_ms: int = POLL_WAIT_MS
    ) -> None:
        self._settings = settings
        self._topic = topic
        self._apply = apply
        self._poll_wait_ms = poll_wait_ms
        self._accepted = {model.event_type: model for model in topic.events}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._caught_up = asyncio.Event()
        self._end_at_start: dict[TopicPartition, int] = {}
        self._applied: OrderedDict[str, None] = OrderedDict()
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self.skipped = 0
        """Records that were not valid events of the topic; logged and left behind."""

    async def start(self) -> None:
        """Connects, takes every partition from its beginning, and starts following."""
        consumer = AIOKafkaConsumer(
            **client_kwargs(self._settings),
            enable_auto_commit=False,
            fetch_max_wait_ms=self._poll_wait_ms,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        self._consumer = consumer
        partitions = [TopicPartition(self._topic.name, p) for p in sorted(await self._partitions(consumer))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._end_at_start = dict(await consumer.end_offsets(partitions))
        self._task = asyncio.create_task(self._follow(consumer), name=f"replica:{self._topic.name}")

    @property
    def caught_up(self) -> bool:
        """Whether the replica has applied everything the topic held when it started, and still runs."""
        return self._caught_up.is_set() and self._task is not None and not self._task.done()

    async def wait_caught_up(self, timeout: float) -> None:
        """Waits until the replay of what the topic held at start is done."""
        try:
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        except TimeoutError as error:
            raise RequestTimeoutError(f"replaying {self._topic.name} took more than {timeout:g}s") from error

    async def wait_applied(self, event_id: str, timeout: float) -> None:
        """Waits until the event with this id has been applied: how a writer reads its own write."""
        if event_id in self._applied:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(event_id, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError as error:
            raise RequestTimeoutError(
                f"event {event_id} did not come back from {self._topic.name} in {timeout:g}s"
            ) from error
        finally:
            waiters = self._waiting.get(event_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiting.pop(event_id, None)

    async def close(self) -> None:
        """Stops following and disconnects."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> set[int]:
        # Metadata for a topic that was just created can take a moment to list its partitions.
        for _ in range(50):
            partitions = consumer.partitions_for_topic(self._topic.name)
            if partitions:
                return set(partitions)
            await consumer.topics()  # refreshes the cluster metadata
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topic {self._topic.name} has no partitions; is it created?")

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        await self._mark_caught_up_if_done(consumer)
        while True:
            batches = await consumer.getmany(timeout_ms=self._poll_wait_ms, max_records=5000)
            for records in batches.values():
                for record in records:
                    self._apply_record(record)
            await self._mark_caught_up_if_done(consumer)

    def _apply_record(self, record: ConsumerRecord[Any, Any]) -> None:
        if record.value is None:
            return  # a tombstone: compaction's deletion marker, not an event
        try:
            envelope = parse_envelope(decode_headers(record.headers))
            event = decode_event(envelope, record.value, self._accepted)
        except InvalidEventError as error:
            self.skipped += 1
            log.warning(
                "replica skipped a record", extra={"topic": record.topic, "offset": record.offset, "error": str(error)}
            )
            return
        self._apply(event, envelope)
        self._remember(envelope.id)

    def _remember(self, event_id: str) -> None:
        self._applied[event_id] = None
        if len(self._applied) > REMEMBERED_EVENT_IDS:
            self._applied.popitem(last=False)
        for waiter in self._waiting.pop(event_id, []):
            if not waiter.done():
                waiter.set_result(None)

    async def _mark_caught_up_if_done(self, consumer: AIOKafkaConsumer) -> None:
        if self._caught_up.is_set():
            return
        # `position` is the next offset to read: past the end offsets seen at start, the replay is done.
        positions = [await consumer.position(tp) for tp in self._end_at_start]
        if all(position >= end for position, end in zip(positions, self._end_at_start.values(), strict=True)):
            self._caught_up.set()
