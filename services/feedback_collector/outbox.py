"""A feedback's events, built once and written down before they are published, so a retry sends the same.

Publishing and then remembering a feedback leaves a gap: a crash between the two, and the client's
retry would publish a second event, a second row downstream. So the events are built once, stored as
an intent, then published with envelopes whose id and time derive from (tenant, feedback_id) and the
submission time. A retry finds the intent and publishes the very same events again, which consumers
(idempotent by event id) and the monitor's tables (which fold rows of one event id and time) take once.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime

from llmops_common.events import Event, FeedbackSubmittedV1, RecordSubmittedV1
from llmops_common.kafka.envelope import Envelope, new_envelope
from llmops_common.kafka.publisher import EventPublisher

from .store import StoredIntent

EVENT_ID_NAMESPACE = uuid.UUID("6f0b7a52-3c1e-4d7e-9a55-1f6c2b8e4d90")
"""Names the feedback collector's derived event ids (UUIDv5), apart from any other UUIDv5 use."""


@dataclass(frozen=True)
class FeedbackIntent:
    """What one feedback publishes: its event, and the training example of its correction if any."""

    body_sha256: str
    event: FeedbackSubmittedV1
    example: RecordSubmittedV1 | None

    def stored(self) -> StoredIntent:
        """The intent as the store keeps it."""
        example_json = self.example.model_dump_json() if self.example is not None else None
        return StoredIntent(self.body_sha256, self.event.model_dump_json(), example_json)

    @classmethod
    def of(cls, stored: StoredIntent) -> FeedbackIntent:
        """The intent the store kept."""
        example = RecordSubmittedV1.model_validate_json(stored.example_json) if stored.example_json else None
        return cls(stored.body_sha256, FeedbackSubmittedV1.model_validate_json(stored.event_json), example)


def stable_envelope(event: Event, source: str, name: str, time: datetime) -> Envelope:
    """The envelope every attempt sends `event` in: an id derived from `name`, and a fixed time."""
    envelope = new_envelope(event, source)
    return dataclasses.replace(envelope, id=str(uuid.uuid5(EVENT_ID_NAMESPACE, name)), time=time)


async def publish_intent(publisher: EventPublisher, intent: FeedbackIntent) -> None:
    """Publishes the example, then the feedback event; the same envelopes on every attempt."""
    event = intent.event
    name, time = f"{event.tenant}/{event.feedback_id}", event.submitted_at
    if intent.example is not None:
        example_envelope = stable_envelope(intent.example, publisher.source, f"{name}/example", time)
        await publisher.publish(intent.example, envelope=example_envelope)
    await publisher.publish(event, envelope=stable_envelope(event, publisher.source, f"{name}/feedback", time))
