"""Consumes topics in large batches for a sink: each batch is written whole, then its offsets are committed.

The shared `EventConsumer` calls a handler per event, which is right for services that act on events
one by one. A sink that writes rows to a store wants the opposite: thousands of records per write, and
no per-event bookkeeping. `BatchConsumer` keeps the platform's guarantees for that case:

- offsets are committed only after the sink has written the whole batch, so a crash redelivers it;
- a batch whose write fails is retried, whole and in order, until it succeeds or the consumer stops;
- records are prepared (decoded, validated) as each poll returns them, while the previous batch is
  being written (in a worker thread, for a blocking store): the two overlap, and a slow store gets
  larger batches. One write is in flight at a time, so writes and commits stay in order;
- before partitions move to another member, what is buffered is written and committed, so the new
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
from typing import Generic, Protocol, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from ..settings import PlatformSettings
from .broker import client_kwargs

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
P = TypeVar("P")

IN_FLIGHT_POLL_MS = 10
"""How long a poll waits while a write is in flight, so the next batch starts soon after it ends."""


@dataclass(frozen=True)
class BatchLimits:
    """When a batch is written: at `max_records` buffered records or `max_wait_seconds` after the first."""

    max_records: int = 1000
    max_wait_seconds: float = 1.0
    fetch_records: int = 10_000
    """The most records one poll returns."""
    max_buffered_records: int = 100_000
    """While a write is in flight, polling pauses once this many records wait (the store sets the pace)."""
    retry_backoff_seconds: float = 0.5
    """The pause before writing a failed batch again (doubled per failure, up to 30 s)."""


class BatchSink(Protocol[P]):
    """What a `BatchConsumer` feeds: records are prepared as they arrive, then written in batches."""

    def prepare(self, records: Sequence[Record]) -> P:
        """The CPU part (decoding, validating), done on the event loop as records arrive. It never raises
        for a bad record: the prepared part carries it, for `write` to dead-letter."""
        ...

    async def write(self, parts: list[P]) -> None:
        """Writes prepared parts as one batch; raises to have the same parts written again.

        It may replace the list's items (merge them, drop what it wrote) so a retry resumes."""
        ...

    def partitions_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Says these partitions (re)start at their committed offset, so records may come a second time."""
        ...


@dataclass
class _Pending(Generic[P]):
    """Records polled but not yet written, with their prepared parts."""

    offsets: dict[TopicPartition, int]
    parts: list[P]
    records: int = 0
    since: float = 0.0


class BatchConsumer(Generic[P]):
    """One consumer-group member that feeds `sink` batches from `topics`; `start`, later `stop`."""

    def __init__(
        self,
        settings: PlatformSettings,
        topics: Sequence[str],
        sink: BatchSink[P],
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
        self._pending: _Pending[P] = _Pending({}, [])
        self._flush_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: asyncio.Task[None] | None = None
        self.batches_written = 0

    async def start(self) -> None:
        """Joins the group and starts the consuming task."""
        self._consumer.subscribe(self._topics, listener=_Rebalance(self))
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"batch-consumer:{','.join(self._topics)}")

    async def stop(self) -> None:
        """Writes and commits what is buffered (unless the store is away), then leaves the group."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    @property
    def assigned(self) -> bool:
        """Whether this member holds partitions now."""
        return bool(self._consumer.assignment())

    @property
    def running(self) -> bool:
        """Whether the consuming task is alive; for `/readyz`."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            if self._pending.records >= self._limits.max_buffered_records:
                await self._settle()  # the store is behind: stop fetching until it catches up
            batches = await self._consumer.getmany(
                timeout_ms=self._poll_wait_ms(), max_records=self._limits.fetch_records
            )
            for records in batches.values():
                self._add(records)
                # A poll can hold thousands of records of each partition: once the previous write is
                # done, the store should not wait for all of them to be prepared.
                await self._flush_if_due()
            await self._flush_if_due()
        await self.flush(final=True)

    def _add(self, records: Sequence[Record]) -> None:
        if not records:
            return
        pending = self._pending
        if not pending.records:
            pending.since = time.monotonic()
        pending.parts.append(self._sink.prepare(records))
        pending.records += len(records)
        last = records[-1]
        pending.offsets[TopicPartition(last.topic, last.partition)] = last.offset + 1

    def _poll_wait_ms(self) -> int:
        if self._in_flight is not None and not self._in_flight.done():
            return IN_FLIGHT_POLL_MS
        if not self._pending.records:
            return int(self._limits.max_wait_seconds * 1000)
        remaining = self._pending.since + self._limits.max_wait_seconds - time.monotonic()
        return max(0, int(remaining * 1000))

    async def _flush_if_due(self) -> None:
        if self._due() and self._write_done():
            await self.flush()

    def _due(self) -> bool:
        pending = self._pending
        waited = time.monotonic() - pending.since
        return pending.records >= self._limits.max_records or (
            pending.records > 0 and waited >= self._limits.max_wait_seconds
        )

    def _write_done(self) -> bool:
        return self._in_flight is None or self._in_flight.done()

    async def flush(self, *, final: bool = False) -> None:
        """Starts writing what is pending once the previous write is committed.

        A `final` flush (at stop, or before partitions leave) also waits for this write, and gives a
        failing write up after one try: its records stay uncommitted and are redelivered to whoever
        consumes next.
        """
        async with self._flush_lock:
            await self._settle()
            if self._pending.records:
                pending, self._pending = self._pending, _Pending({}, [])
                self._in_flight = asyncio.create_task(self._write_and_commit(pending, give_up_early=final))
                await asyncio.sleep(0)  # the write hands its work to the store before more records are prepared
            if final:
                await self._settle()

    async def _settle(self) -> None:
        if self._in_flight is not None:
            await self._in_flight
            self._in_flight = None

    async def _write_and_commit(self, pending: _Pending[P], *, give_up_early: bool) -> None:
        delay = self._limits.retry_backoff_seconds
        while True:
            try:
                await self._sink.write(pending.parts)
                break
            except Exception:
                log.exception("writing a batch of %d records failed; it will be tried again", pending.records)
                if give_up_early or self._stopping.is_set():
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        await self._commit(pending.offsets)
        self.batches_written += 1

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # The partitions moved on: their next owner replays from the last commit, and the sink's
            # idempotence keeps those records from being written twice.
            log.warning("commit after a written batch failed: %r", error)

    def partitions_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Passes a new assignment on to the sink."""
        self._sink.partitions_assigned(partitions)


class _Rebalance(ConsumerRebalanceListener, Generic[P]):  # type: ignore[misc]
    """Writes what is pending before partitions leave, and tells the sink which partitions it replays."""

    def __init__(self, consumer: BatchConsumer[P]) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._consumer.flush(final=True)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._consumer.partitions_assigned(assigned)
