"""Telemetry that never slows or fails a request: a bounded buffer, published in batches by one task.

`record` only appends (or counts a drop when the buffer is full); the publisher sends batches with a
timeout and counts a batch it could not send as dropped, so a broker that is down costs requests
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from llmops_common.events import InferenceCompletedV1

from .metrics import ServerMetrics

log = logging.getLogger(__name__)

PublishBatch = Callable[[Sequence[InferenceCompletedV1]], Awaitable[object]]


class TelemetryBuffer:
    """Holds at most `capacity` events until the publisher task takes them."""

    def __init__(
        self,
        publish: PublishBatch,
        metrics: ServerMetrics,
        *,
        capacity: int,
        batch_size: int,
        flush_seconds: float,
        publish_timeout: float,
    ) -> None:
        self._publish = publish
        self._metrics = metrics
        self._events: deque[InferenceCompletedV1] = deque()
        self._capacity = capacity
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._publish_timeout = publish_timeout
        self._wakeup = asyncio.Event()
        metrics.telemetry_buffered.set_function(lambda: float(len(self._events)))

    def record(self, event: InferenceCompletedV1) -> None:
        """Queues an event; never blocks and never raises."""
        if len(self._events) >= self._capacity:
            self._metrics.telemetry_dropped.inc()
            return
        self._events.append(event)
        if len(self._events) >= self._batch_size:
            self._wakeup.set()

    async def run(self) -> None:
        """Publishes batches until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._flush_seconds)
            self._wakeup.clear()
            while self._events:
                await self._send(self._take_batch())

    async def flush(self) -> None:
        """Publishes what is buffered (at shutdown)."""
        while self._events:
            await self._send(self._take_batch())

    def _take_batch(self) -> list[InferenceCompletedV1]:
        count = min(self._batch_size, len(self._events))
        return [self._events.popleft() for _ in range(count)]

    async def _send(self, batch: list[InferenceCompletedV1]) -> None:
        try:
            await asyncio.wait_for(self._publish(batch), self._publish_timeout)
        except Exception as error:  # the broker is away: drop, count, carry on
            self._metrics.telemetry_dropped.inc(len(batch))
            log.warning("dropped %d telemetry events: %s", len(batch), type(error).__name__)
            return
        self._metrics.telemetry_published.inc(len(batch))
