"""Publishes an event from a short-lived process, such as the CLI, without a running service."""

from __future__ import annotations

from ..events import Event
from ..settings import PlatformSettings
from ..topics import topic_for_event
from .admin import catalog_topics, create_topics
from .broker import build_broker
from .publisher import EventPublisher


async def publish_once(settings: PlatformSettings, event: Event, *, source: str) -> None:
    """Publishes one event and waits until the broker has it; creates its topic first when allowed."""
    topic = topic_for_event(event.event_type).name
    if settings.kafka_create_topics:
        await create_topics(settings, [t for t in catalog_topics(settings) if t.name == topic])
    broker = build_broker(settings, client_id=source)
    await broker.connect()
    try:
        await EventPublisher(broker, source).publish(event)
    finally:
        await broker.stop()
