"""Publishes events in their CloudEvents envelope, keyed by the id of the thing they are about."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from ..events import Event
from ..topics import topic_for_event
from .envelope import Envelope, new_envelope


class EventPublisher:
    """Every event a service emits goes through one of these."""

    def __init__(self, broker: KafkaBroker, source: str) -> None:
        self._broker = broker
        self.source = source

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
        await self._broker.publish(
            event.model_dump_json().encode(),
            topic=topic or topic_for_event(event.event_type).name,
            key=event.event_key().encode(),
            headers=envelope.headers(),
            correlation_id=envelope.id,
        )
        return envelope

    async def publish_many(
        self, events: Sequence[Event], *, topic: str | None = None, envelopes: Sequence[Envelope] | None = None
    ) -> list[Envelope]:
        """Publishes many events at once, pipelined, and waits until the brokers have all of them.

        `envelopes`, one per event, are for events published before: sent again, they keep their ids."""
        envelopes = list(envelopes) if envelopes is not None else [new_envelope(event, self.source) for event in events]
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
        return envelopes
