"""Request/reply over Kafka, for the platform's one synchronous need: retrieval for RAG.

A request carries two CloudEvents extension attributes: `correlationid` and `replyto` (the topic to
answer on). Every requester instance reads the whole reply topic without a consumer group, from its
end, and keeps only replies whose correlation id it is waiting for, so each instance reads its own
replies. While no request is waiting the reply partitions are paused: a consumer polling every few
milliseconds for replies nobody awaits took half of a model server's event loop. FastStream's
`broker.request()` does not support Kafka, hence this module.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from ..errors import InvalidEventError, PermanentError, RequestTimeoutError
from ..events import Event
from .consumer import LOW_LATENCY_MAX_WAIT_MS, EventContext, InvalidEventHandler
from .envelope import decode_event, decode_headers, parse_envelope
from .publisher import EventPublisher
from .raw_parsing import parse_tolerating_bad_headers, skip_decoding

R = TypeVar("R", bound=Event)
CORRELATION_ID = "correlationid"
REPLY_TO = "replyto"


class Requester(Generic[R]):
    """Sends requests and awaits their replies; start it before the broker starts."""

    def __init__(
        self,
        broker: KafkaBroker,
        publisher: EventPublisher,
        reply_topic: str,
        reply_type: type[R],
        *,
        fetch_max_wait_ms: int = LOW_LATENCY_MAX_WAIT_MS,
    ) -> None:
        self._publisher = publisher
        self._reply_topic = reply_topic
        self._reply_type = {reply_type.event_type: reply_type}
        self._pending: dict[str, asyncio.Future[R]] = {}
        self._subscriber: Any = broker.subscriber(
            reply_topic,
            auto_offset_reset="latest",
            fetch_max_wait_ms=fetch_max_wait_ms,
            ack_policy=AckPolicy.MANUAL,
            parser=parse_tolerating_bad_headers,
            decoder=skip_decoding,
        )
        self._subscriber(self._on_reply)
        self._ready = False

    async def wait_ready(self, timeout: float | None = 10.0) -> None:
        """Waits until the reply consumer holds its position, so no reply can pass unseen; then it rests
        until a request is sent."""
        async with asyncio.timeout(timeout):
            consumer = self._subscriber.consumer
            while consumer is None or not consumer.assignment():
                await asyncio.sleep(0.01)
                consumer = self._subscriber.consumer
            for partition in consumer.assignment():
                await consumer.position(TopicPartition(partition.topic, partition.partition))
        if not self._pending:
            self._rest()

    async def request_when_ready(self, event: Event, *, topic: str, timeout: float) -> R:
        """`request`, after `wait_ready` on the first call: a requester built before its broker started
        takes its position only once it runs, and a reply published before then would pass unseen."""
        if not self._ready:
            await self.wait_ready(timeout=timeout)
            self._ready = True
        return await self.request(event, topic=topic, timeout=timeout)

    async def request(self, event: Event, *, topic: str, timeout: float) -> R:
        """Publishes `event` on `topic` and returns the reply; raises `RequestTimeoutError` in time."""
        correlation_id = str(uuid.uuid4())
        reply: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = reply
        self._listen()
        try:
            await self._publisher.publish(
                event, topic=topic, extensions={CORRELATION_ID: correlation_id, REPLY_TO: self._reply_topic}
            )
            return await asyncio.wait_for(reply, timeout)
        except TimeoutError as error:
            raise RequestTimeoutError(
                f"no reply to {event.event_type} on {self._reply_topic} within {timeout:g}s"
            ) from error
        finally:
            self._pending.pop(correlation_id, None)
            if not self._pending:
                self._rest()

    @property
    def listening(self) -> bool:
        """Whether the reply consumer is fetching: from its start until `wait_ready`, and while a request
        waits."""
        consumer = self._subscriber.consumer
        return consumer is None or bool(set(consumer.assignment()) - consumer.paused())

    def _listen(self) -> None:
        # Resuming wakes aiokafka's fetch loop at once: the reply is fetched from the position the
        # partition paused at, so a reply published after this call cannot be missed.
        consumer = self._subscriber.consumer
        if consumer is not None and consumer.paused():
            consumer.resume(*consumer.paused())

    def _rest(self) -> None:
        consumer = self._subscriber.consumer
        if consumer is not None and consumer.assignment():
            consumer.pause(*consumer.assignment())

    async def _on_reply(self, message: KafkaMessage) -> None:
        record: ConsumerRecord[bytes, bytes] = message.raw_message
        try:
            envelope = parse_envelope(decode_headers(record.headers))
        except InvalidEventError:
            return
        waiting = self._pending.get(envelope.extensions.get(CORRELATION_ID, ""))
        if waiting is None or waiting.done():
            return  # another instance's reply, or one that came after its timeout
        try:
            waiting.set_result(decode_event(envelope, record.value, self._reply_type))  # type: ignore[arg-type]
        except InvalidEventError as error:
            waiting.set_exception(error)


async def send_reply(publisher: EventPublisher, request: EventContext, reply: Event) -> None:
    """Answers a request on the topic it named, with its correlation id."""
    if not await _publish_reply(publisher, request.envelope.extensions, reply):
        raise PermanentError("the request names no reply topic or correlation id")


InvalidRequestReply = Callable[[str, Mapping[str, Any], InvalidEventError], Event]
"""Builds the error reply to an invalid request from its event type (a topic may carry several kinds of
request), its JSON body (as far as it parses) and the error."""


def invalid_request_replier(publisher: EventPublisher, build_reply: InvalidRequestReply) -> InvalidEventHandler:
    """An `on_invalid` hook for a responder: a request that fails validation still gets an answer, so its
    caller learns why at once instead of waiting for a timeout. It is dead-lettered as well."""

    async def reply(record: ConsumerRecord[bytes, bytes], error: InvalidEventError) -> None:
        try:
            envelope = parse_envelope(decode_headers(record.headers))
        except InvalidEventError:
            return  # no envelope, no correlation id: nobody to answer
        answer = build_reply(envelope.type, _json_object(record.value), error)
        await _publish_reply(publisher, envelope.extensions, answer)

    return reply


async def _publish_reply(publisher: EventPublisher, extensions: Mapping[str, str], reply: Event) -> bool:
    if REPLY_TO not in extensions or CORRELATION_ID not in extensions:
        return False
    await publisher.publish(reply, topic=extensions[REPLY_TO], extensions={CORRELATION_ID: extensions[CORRELATION_ID]})
    return True


def _json_object(value: bytes | None) -> Mapping[str, Any]:
    try:
        body = json.loads(value or b"")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
