"""Subscribes typed event handlers with the platform's delivery guarantees.

- Offsets are committed only after a whole batch is handled (FastStream's Kafka default commits
  first, on receipt; we use `NACK_ON_ERROR`, which commits on success and seeks back on error).
- A failing handler is retried with exponential backoff and jitter (see `RetryPolicy`: a transient
  failure for up to a configured time, any other a few times), then its event goes to the group's
  dead-letter topic; a `PermanentError` goes there at once, as does a message that is not a valid
  CloudEvent of an accepted type. Either way the partition keeps flowing.
- An event id the group has handled before is skipped (see `IdempotencyStore`). A dead-lettered event
  is not marked handled, so that `llmops dlq replay` puts it through the handler again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from ..errors import InvalidEventError
from ..events import Event
from ..topics import TopicSpec
from ..tracing import TraceContext, current_event_id, current_trace
from .dead_letter import send_to_dead_letter
from .envelope import Envelope, decode_event, decode_headers, parse_envelope
from .handled_ids import HandledIds
from .idempotency import IdempotencyStore
from .metrics import BusMetrics, TopicMetrics
from .raw_parsing import decoded_headers, parse_tolerating_bad_headers, skip_decoding
from .retry_policy import RetryPolicy

E = TypeVar("E", bound=Event)
log = logging.getLogger(__name__)


@dataclass(slots=True)
class EventContext:
    """Where an event came from: its envelope and its place in the log; read-only by convention.

    Not frozen: one is built per event, and a frozen dataclass takes twice as long to build.
    """

    envelope: Envelope
    topic: str
    partition: int
    offset: int
    key: bytes | None


Handler = Callable[[E, EventContext], Awaitable[None]]
InvalidEventHandler = Callable[[ConsumerRecord[bytes, bytes], InvalidEventError], Awaitable[None]]
"""Sees a record that failed to decode or validate, before it is dead-lettered (a responder's error reply)."""


BATCH_MAX_WAIT_MS = 100
"""How long a batch poll waits for records: the most an idle subscription adds to an event's latency."""
LOW_LATENCY_MAX_WAIT_MS = 2
"""How long a latency-sensitive subscription's fetch waits at the broker when idle, by default (see the
setting `kafka_request_fetch_wait_ms`)."""


@dataclass
class _Subscription:
    group_id: str
    topic: str
    accepted: dict[str, type[Event]]
    handler: Handler[Any]
    handled_ids: HandledIds | None
    """The group's handled event ids, or None for a subscription that is not idempotent."""
    metrics: TopicMetrics
    on_invalid: InvalidEventHandler | None = None


@dataclass
class _Tally:
    """What a batch did, counted locally and added to the metrics once per batch."""

    handled: int = 0
    duplicates: int = 0

    def publish(self, metrics: TopicMetrics) -> None:
        if self.handled:
            metrics.handled.inc(self.handled)
        if self.duplicates:
            metrics.duplicates.inc(self.duplicates)


class EventConsumer:
    """Registers handlers on a broker; one per service, shared by all its subscriptions."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        idempotency: IdempotencyStore,
        metrics: BusMetrics,
        retry: RetryPolicy | None = None,
        batch_size: int = 5000,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        low_latency_fetch_wait_ms: int = LOW_LATENCY_MAX_WAIT_MS,
    ) -> None:
        self._broker = broker
        self._idempotency = idempotency
        self._metrics = metrics
        self._retry = retry or RetryPolicy()
        self._batch_size = batch_size
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._low_latency_fetch_wait_ms = low_latency_fetch_wait_ms

    def subscribe(
        self,
        topic: TopicSpec | str,
        events: Sequence[type[E]],
        handler: Handler[E],
        *,
        group_id: str,
        kafka_group_id: str | None = None,
        from_beginning: bool = True,
        idempotent: bool = True,
        latency_sensitive: bool = False,
        on_invalid: InvalidEventHandler | None = None,
        max_poll_interval_ms: int = 300_000,
    ) -> Any:
        """Calls `handler` for each event of the given types on `topic`; returns the subscriber.

        `group_id` owns the handled event ids and the dead-letter topic. `kafka_group_id` (by default
        `group_id`) is the Kafka consumer group that reads the topic: a service that reads several
        topics gives each its own, so a rebalance of one never pauses the others.

        By default records come in batches of up to `batch_size`, which is the fast way through a
        backlog. A `latency_sensitive` subscription, for requests that a caller awaits, takes each
        record as soon as it arrives, with short fetch waits: less throughput, and more idle fetches.
        `on_invalid` sees each record that is not a valid event before it goes to the dead-letter topic.
        `max_poll_interval_ms` bounds how long one batch may take before the group counts this member as
        dead and hands its partitions to another: raise it for handlers that run for minutes (training).
        """

        name = topic if isinstance(topic, str) else topic.name
        accepted: dict[str, type[Event]] = {m.event_type: m for m in events}
        handled_ids = self._idempotency.group(group_id) if idempotent else None
        subscription = _Subscription(
            group_id, name, accepted, handler, handled_ids, self._metrics.for_topic(name), on_invalid
        )

        async def consume_batch(message: KafkaMessage) -> None:
            await self._consume_batch(subscription, message.raw_message, decoded_headers(message))

        subscriber = self._broker.subscriber(
            name,
            group_id=kafka_group_id or group_id,
            **(self._single_record() if latency_sensitive else self._batches()),
            auto_offset_reset="earliest" if from_beginning else "latest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            parser=parse_tolerating_bad_headers,
            decoder=skip_decoding,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_interval_ms,
            max_poll_interval_ms=max_poll_interval_ms,
        )
        subscriber(consume_batch)
        return subscriber

    def _batches(self) -> dict[str, Any]:
        return {
            "batch": True,
            "max_records": self._batch_size,
            "batch_timeout_ms": BATCH_MAX_WAIT_MS,
            "fetch_max_wait_ms": BATCH_MAX_WAIT_MS,
        }

    def _single_record(self) -> dict[str, Any]:
        # FastStream's single-record loop awaits `getone()`, which wakes on arrival; its batch loop
        # polls and sleeps between empty polls.
        return {"batch": False, "fetch_max_wait_ms": self._low_latency_fetch_wait_ms}

    async def _consume_batch(self, sub: _Subscription, raw: Any, headers: list[dict[str, str] | None]) -> None:
        records: tuple[ConsumerRecord[bytes, bytes], ...] = raw if isinstance(raw, tuple) else (raw,)
        decoded = [_decode(record, known, sub.accepted) for record, known in zip(records, headers, strict=True)]
        handled = (
            sub.handled_ids.handled_among([item[0].id for item in decoded if isinstance(item, tuple)])
            if sub.handled_ids is not None
            else set()
        )
        tally = _Tally()
        # The batch's context is set per event and restored once, at the end of the batch.
        id_token, trace_token = current_event_id.set(None), current_trace.set(None)
        try:
            for record, item in zip(records, decoded, strict=True):
                await self._consume_one(sub, record, item, handled, tally)
        except Exception:
            # Only infrastructure failures reach here (the dead-letter publish itself failed). Pause
            # before FastStream seeks back, so an unreachable broker is not a tight loop.
            log.exception("batch failed; it will be redelivered", extra={"topic": sub.topic})
            await asyncio.sleep(self._retry.delay(self._retry.max_attempts))
            raise
        finally:
            current_event_id.reset(id_token)
            current_trace.reset(trace_token)
            tally.publish(sub.metrics)

    async def _consume_one(
        self,
        sub: _Subscription,
        record: ConsumerRecord[bytes, bytes],
        decoded: tuple[Envelope, Event] | InvalidEventError,
        handled: set[str],
        tally: _Tally,
    ) -> None:
        """Handles one record; `handled` holds the batch's event ids handled before, and grows."""
        if isinstance(decoded, InvalidEventError):
            if sub.on_invalid is not None:
                await _notify_invalid(sub.on_invalid, record, decoded)
            await self._dead_letter(sub, record, decoded)
            return
        envelope, event = decoded
        if envelope.id in handled:
            tally.duplicates += 1
            return
        current_event_id.set(envelope.id)
        if envelope.traceparent is not None or current_trace.get() is not None:
            current_trace.set(TraceContext.parse(envelope.traceparent))
        context = EventContext(envelope, record.topic, record.partition, record.offset, record.key)
        started = time.perf_counter()
        try:
            await sub.handler(event, context)
        except Exception as error:
            if not await self._retry_or_dead_letter(sub, event, context, record, error):
                return  # dead-lettered: not handled, so a replay of the dead letter is not skipped
        else:
            sub.metrics.handler_seconds.observe(time.perf_counter() - started)
            tally.handled += 1
        if sub.handled_ids is not None:
            sub.handled_ids.mark(envelope.id)
            handled.add(envelope.id)

    async def _retry_or_dead_letter(
        self,
        sub: _Subscription,
        event: Event,
        context: EventContext,
        record: ConsumerRecord[bytes, bytes],
        error: Exception,
    ) -> bool:
        """After a failed first attempt: tries the handler again with backoff; True once it succeeds,
        False when the event was dead-lettered instead."""
        first_failure, attempt = time.monotonic(), 1
        while True:
            delay = self._retry.delay(attempt)
            if not self._retry.should_retry(error, attempt, time.monotonic() - first_failure, delay):
                break
            log.warning("handler failed, retrying", extra={"attempt": attempt, "error": repr(error)})
            sub.metrics.retried.inc()
            await asyncio.sleep(delay)
            attempt += 1
            started = time.perf_counter()
            try:
                await sub.handler(event, context)
            except Exception as again:
                error = again
            else:
                sub.metrics.handler_seconds.observe(time.perf_counter() - started)
                sub.metrics.handled.inc()
                return True
        await self._dead_letter(sub, record, error)
        return False

    async def _dead_letter(
        self, sub: _Subscription, record: ConsumerRecord[bytes, bytes], error: BaseException
    ) -> None:
        log.error("event dead-lettered", extra={"topic": record.topic, "offset": record.offset, "error": repr(error)})
        await send_to_dead_letter(self._broker, sub.group_id, record, error)
        self._metrics.dead_lettered.labels(sub.topic, type(error).__name__).inc()
        self._metrics.consumed.labels(sub.topic, "dead_lettered").inc()


async def _notify_invalid(
    on_invalid: InvalidEventHandler, record: ConsumerRecord[bytes, bytes], error: InvalidEventError
) -> None:
    # Best effort: the record is dead-lettered either way, and a failure here must not stall the partition.
    try:
        await on_invalid(record, error)
    except Exception:
        log.exception("on_invalid failed", extra={"topic": record.topic, "offset": record.offset})


def _decode(
    record: ConsumerRecord[bytes, bytes], headers: dict[str, str] | None, accepted: dict[str, type[Event]]
) -> tuple[Envelope, Event] | InvalidEventError:
    """The record's envelope and event, or why it is not a valid event of an accepted type.

    `headers` are the record's headers already decoded, or None to decode them here.
    """
    try:
        envelope = parse_envelope(headers if headers is not None else decode_headers(record.headers))
        return envelope, decode_event(envelope, record.value, accepted)
    except InvalidEventError as error:
        return error
