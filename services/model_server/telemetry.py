"""Telemetry that never slows or fails a request, and is not lost while the broker is away.

`record` only appends to a bounded buffer in memory; one task publishes it in batches, with a timeout.
A batch the broker does not take, and the oldest batch when the buffer is full, go to the spill folder
(`TelemetrySpill`), which the task sends on, oldest first, once the broker takes batches again. Each
event gets its envelope when it is recorded, so however often it is sent it is one event id, which
consumers keep once. Only what the spill folder cannot hold (its bound, or a failing disk) is dropped,
and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.envelope import new_envelope

from .metrics import ServerMetrics
from .telemetry_spill import Pending, SpilledBatch, TelemetrySpill

log = logging.getLogger(__name__)

PublishBatch = Callable[[Sequence[Pending]], Awaitable[object]]
"""Publishes events in the envelopes given, and returns once the broker has them all."""


class TelemetryBuffer:
    """Holds at most `capacity` events in memory until the publisher task takes them; spills the rest."""

    def __init__(
        self,
        publish: PublishBatch,
        metrics: ServerMetrics,
        spill: TelemetrySpill,
        *,
        source: str,
        capacity: int,
        batch_size: int,
        flush_seconds: float,
        publish_timeout: float,
    ) -> None:
        self._publish = publish
        self._metrics = metrics
        self._spill = spill
        self._source = source
        self._events: deque[Pending] = deque()
        self._capacity = capacity
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._publish_timeout = publish_timeout
        self._wakeup = asyncio.Event()
        metrics.telemetry_buffered.set_function(lambda: float(len(self._events)))
        metrics.telemetry_spill_backlog.set_function(lambda: float(spill.events))

    def record(self, event: InferenceCompletedV1) -> None:
        """Queues an event; never blocks on the broker and never raises.

        A full buffer moves its oldest batch to disk: a write of one batch, once per batch of requests,
        and only while the broker is away."""
        if len(self._events) >= self._capacity:
            self._spill_batch(self._take_batch())
        self._events.append((new_envelope(event, self._source), event))
        if len(self._events) >= self._batch_size:
            self._wakeup.set()

    async def run(self) -> None:
        """Publishes batches, then what was spilled, until cancelled; a failure waits for the next tick."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._flush_seconds)
            self._wakeup.clear()
            await self._send_what_waits()

    async def flush(self) -> None:
        """Publishes what memory holds (at shutdown); what the broker does not take is spilled, not lost."""
        try:
            while self._events:
                if not await self._send(self._take_batch()):
                    break
        finally:
            while self._events:
                self._spill_batch(self._take_batch())

    async def _send_what_waits(self) -> None:
        # Fresh events go first; the spill folder drains while memory is empty.
        while True:
            if self._events:
                sent = await self._send(self._take_batch())
            elif (spilled := self._spill.oldest()) is not None:
                sent = await self._resend(spilled)
            else:
                return
            if not sent:
                return

    def _take_batch(self) -> list[Pending]:
        count = min(self._batch_size, len(self._events))
        return [self._events.popleft() for _ in range(count)]

    async def _send(self, batch: list[Pending]) -> bool:
        """Publishes a batch from memory; spills it when the broker does not take it in time."""
        try:
            await asyncio.wait_for(self._publish(batch), self._publish_timeout)
        except asyncio.CancelledError:
            self._spill_batch(batch)  # stopping mid-send: the broker may not have it
            raise
        except Exception as error:  # the broker is away
            log.warning("publishing %d telemetry events failed (%s); spilled", len(batch), type(error).__name__)
            self._spill_batch(batch)
            return False
        self._metrics.telemetry_published.inc(len(batch))
        return True

    async def _resend(self, spilled: SpilledBatch) -> bool:
        """Publishes a spilled batch; the file goes once the broker has every event of it."""
        if spilled.pending:
            try:
                await asyncio.wait_for(self._publish(spilled.pending), self._publish_timeout)
            except Exception as error:
                log.warning("resending spilled telemetry failed (%s)", type(error).__name__)
                return False
            self._metrics.telemetry_published.inc(len(spilled.pending))
        if spilled.unreadable:
            self._metrics.telemetry_dropped.inc(spilled.unreadable)
        self._spill.remove(spilled)
        return True

    def _spill_batch(self, batch: list[Pending]) -> None:
        if not batch:
            return
        if self._spill.write(batch):
            self._metrics.telemetry_spilled.inc(len(batch))
            return
        self._metrics.telemetry_dropped.inc(len(batch))
        log.error("dropped %d telemetry events: the spill folder is full or failing", len(batch))
