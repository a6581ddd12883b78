"""Publishes events in their CloudEvents envelope, keyed by the id of the thing they are about."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

from ..errors import BrokerUnavailableError
from ..events import Event
from ..topics import topic_for_event
from .envelope import Envelope, new_envelope


class EventPublisher:
    """Every event a service emits goes through one of these.

    With a `timeout`, a publish that the broker has not confirmed within it (the broker is away, say)
    raises `BrokerUnavailableError`, a transient error (HTTP 503), instead of waiting for the Kafka
    client's own request timeout and failing with a client error. The events may still arrive after it:
    whoever tries again must be idempotent, as every consumer is on the event id.
    """

    def __init__(self, broker: KafkaBroker, source: str, *, timeout: float | None = None) -> None:
        self._broker = broker
        self.source = source
        self._timeout = timeout

    async def publish(
        self,
        event: Event,
        *,
        topic: str | None = None,
        extensions: dict[str, str] | None = None,
        envelope: Envelope | None = None,
    ) -> Envelope:
        """Publishes one event and waits until the brokers have it.

        A given `envelope` (its id and time) makes a publish that is repeated after a crash the same
        event, which consumers then take once."""
        envelope = envelope or new_envelope(event, self.source, **(extensions or {}))
        sending = self._broker.publish(
            event.model_dump_json().encode(),
            topic=topic or topic_for_event(event.event_type).name,
            key=event.event_key().encode(),
            headers=envelope.headers(),
            correlation_id=envelope.id,
        )
        await self._confirmed(sending, 1)
        return envelope

    async def publish_many(
        self, events: Sequence[Event], *, topic: str | None = None, envelopes: Sequence[Envelope] | None = None
    ) -> list[Envelope]:
        """Publishes many events at once, pipelined, and waits until the brokers have all of them.

        `envelopes`, one per event, are for events published before: sent again, they keep their ids."""
        envelopes = list(envelopes) if envelopes is not None else [new_envelope(event, self.source) for event in events]

        async def send_all() -> None:
            futures = [
                await self._broker.publish(
                    event.model_dump_json().encode(),
                    topic=topic or topic_for_event(event.event_type).name,
                    key=event.event_key().encode(),
                    headers=envelope.headers(),
                    correlation_id=envelope.id,
                    no_confirm=True,
                )
                for event, envelope in zip(events, envelopes, strict=True)
            ]
            await asyncio.gather(*futures)

        await self._confirmed(send_all(), len(envelopes))
        return envelopes

    async def _confirmed(self, sending: Awaitable[object], count: int) -> None:
        """Awaits `sending` within the timeout; a timeout or a retriable client error is the broker away."""
        try:
            await asyncio.wait_for(sending, self._timeout)
        except TimeoutError as error:
            raise BrokerUnavailableError(
                f"the broker did not take {count} event(s) within {self._timeout:g}s; try again"
            ) from error
        except KafkaError as error:
            if not error.retriable:
                raise
            raise BrokerUnavailableError(f"the broker did not take {count} event(s): {error}; try again") from error
