"""Consumes topics in large batches for a sink: each batch is handled whole, then its offsets are committed.

The shared `EventConsumer` calls a handler per event, which is right for services that act on events
one by one. A sink that writes rows to a store wants the opposite: thousands of records per write, and
no per-event bookkeeping. `BatchConsumer` keeps the platform's guarantees for that case:

- offsets are committed only after the sink has handled the whole batch, so a crash redelivers it;
- a batch whose handling fails is retried, whole and in order, until it succeeds or the consumer stops;
- before partitions move to another member, the buffered records are handled and committed, so the new
  owner starts where this one stopped.

Redelivery still happens (a crash between the write and the commit), so the sink must be idempotent;
it learns which partitions may replay records through `partitions_assigned`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from ..settings import PlatformSettings
from .broker import client_kwargs

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]


@dataclass(frozen=True)
class BatchLimits:
    """When a batch is flushed: at `max_records` buffered records or `max_wait_seconds` after the first."""

    max_records: int = 1000
    max_wait_seconds: float = 1.0
    fetch_records: int = 10_000
    """The most records one poll returns; a flush takes everything buffered, so a batch may exceed max_records."""
    retry_backoff_seconds: float = 0.5
    """The pause before handling a failed batch again (doubled per failure, up to 30 s)."""


class BatchSink(Protocol):
    """What a `BatchConsumer` feeds."""

    async def handle(self, records: Sequence[Record]) -> None:
        """Handles a batch, in offset order per partition; raises to have the whole batch tried again."""
        ...

    def partitions_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Says these partitions (re)start at their committed offset, so records may come a second time."""
        ...


class BatchConsumer:
    """One consumer-group member that feeds `sink` batches from `topics`; `start`, later `stop`."""

    def __init__(
        self,
        settings: PlatformSettings,
        topics: Sequence[str],
        sink: BatchSink,
        *,
        group_id: str,
        client_id: str,
        limits: BatchLimits = BatchLimits(),
        from_beginning: bool = True,
    ) -> None:
        self._sink = sink
        self._limits = limits
        self._topics = list(topics)
        self._consumer = AIOKafkaConsumer(
            **client_kwargs(settings),
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
            max_poll_records=limits.fetch_records,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        )
        self._buffer: list[Record] = []
        self._first_buffered_at = 0.0
        self._flush_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches_handled = 0

    async def start(self) -> None:
        """Joins the group and starts the consuming task."""
        self._consumer.subscribe(self._topics, listener=_Rebalance(self))
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"batch-consumer:{','.join(self._topics)}")

    async def stop(self) -> None:
        """Handles and commits what is buffered (unless the store is away), then leaves the group."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    @property
    def running(self) -> bool:
        """Whether the consuming task is alive; for `/readyz`."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            batches = await self._consumer.getmany(
                timeout_ms=int(self._poll_wait() * 1000), max_records=self._limits.fetch_records
            )
            for records in batches.values():
                self._buffer_records(records)
            if self._buffer and self._due():
                await self.flush()
        await self.flush(final=True)

    def _buffer_records(self, records: Sequence[Record]) -> None:
        if not self._buffer:
            self._first_buffered_at = time.monotonic()
        self._buffer.extend(records)

    def _poll_wait(self) -> float:
        if not self._buffer:
            return self._limits.max_wait_seconds
        return max(0.0, self._first_buffered_at + self._limits.max_wait_seconds - time.monotonic())

    def _due(self) -> bool:
        waited = time.monotonic() - self._first_buffered_at
        return len(self._buffer) >= self._limits.max_records or waited >= self._limits.max_wait_seconds

    async def flush(self, *, final: bool = False) -> None:
        """Hands the buffer to the sink, retrying until it succeeds, then commits its offsets.

        On a `final` flush (at stop) a failing batch is given up after one try: it stays uncommitted
        and is redelivered to whoever consumes next.
        """
        async with self._flush_lock:
            if not self._buffer:
                return
            batch, self._buffer = self._buffer, []
            if not await self._handle_until_done(batch, give_up_early=final):
                return
            await self._commit(batch)
            self.batches_handled += 1

    async def _handle_until_done(self, batch: list[Record], *, give_up_early: bool) -> bool:
        delay = self._limits.retry_backoff_seconds
        while True:
            try:
                await self._sink.handle(batch)
                return True
            except Exception:
                log.exception("batch of %d records failed; it will be tried again", len(batch))
                if give_up_early or self._stopping.is_set():
                    return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _commit(self, batch: list[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in batch:
            partition = TopicPartition(record.topic, record.partition)
            offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # The partitions moved on: their next owner replays from the last commit, and the sink's
            # idempotence keeps those records from being written twice.
            log.warning("commit after a handled batch failed: %r", error)

    def partitions_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Passes a new assignment on to the sink."""
        self._sink.partitions_assigned(partitions)

    def drop_buffered(self, partitions: Sequence[TopicPartition]) -> None:
        """Forgets buffered records of `partitions` (they were neither handled nor committed)."""
        gone = set(partitions)
        self._buffer = [r for r in self._buffer if TopicPartition(r.topic, r.partition) not in gone]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Flushes before partitions leave, and tells the sink which partitions it now replays from."""

    def __init__(self, consumer: BatchConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._consumer.flush(final=True)
        self._consumer.drop_buffered(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._consumer.partitions_assigned(assigned)
