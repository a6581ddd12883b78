"""Creates topics from the catalog, with their partitions and retention or compaction."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ..settings import PlatformSettings
from ..topics import CATALOG, DAY_MS, dead_letter_topic
from .broker import client_kwargs

DEAD_LETTER_RETENTION_MS = 30 * DAY_MS
CONSUMER_GROUPS = sorted({group for spec in CATALOG for group in spec.consumers if group != "external"})
"""The consumer group of each service that consumes, named after the service."""


def catalog_topics(settings: PlatformSettings) -> list[NewTopic]:
    """Every catalog topic and every service's dead-letter topic."""
    topics = [_new_topic(spec.name, spec.kafka_config(), settings, spec.partitions) for spec in CATALOG]
    dead_letter = {"cleanup.policy": "delete", "retention.ms": str(DEAD_LETTER_RETENTION_MS)}
    topics += [_new_topic(dead_letter_topic(group), dead_letter, settings) for group in CONSUMER_GROUPS]
    return topics


async def create_topics(settings: PlatformSettings, topics: Iterable[NewTopic]) -> list[str]:
    """Creates the topics that do not exist yet; returns the names it created."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            response = await admin.create_topics(missing)
            for name, code, message in response.topic_errors:
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise RuntimeError(f"creating topic {name} failed: error {code} {message}")
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def list_topics(settings: PlatformSettings) -> list[str]:
    """The names of the topics the cluster has."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


def _new_topic(
    name: str, config: dict[str, str], settings: PlatformSettings, partitions: int | None = None
) -> NewTopic:
    count = partitions or settings.kafka_topic_partitions
    return NewTopic(name, count, settings.kafka_replication_factor, topic_configs=config)
