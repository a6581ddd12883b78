"""Runs the telemetry sink: a batch consumer over the telemetry topics that feeds `TelemetrySink`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from llmops_common.errors import LlmopsError
from llmops_common.events import DatasetSealedV1
from llmops_common.kafka.batch_consumer import BatchConsumer, BatchLimits, Record
from llmops_common.kafka.dead_letter import send_to_dead_letter
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore
from llmops_common.storage.telemetry import TelemetryStore

from .rollup_repair import RollupRepair
from .sink import PreparedBatch, SinkMetrics, TelemetrySink
from .telemetry_rows import ProfileReader, TableRoute

log = logging.getLogger(__name__)

SINK_GROUP = "monitor.sink"
"""The sink's own consumer group, apart from the monitor's event handlers, so neither rebalances the other."""
DEAD_LETTER_GROUP = "monitor"
"""Records the sink cannot store go to the monitor's dead-letter topic."""


def profile_reader(artifacts: ArtifactStore) -> ProfileReader:
    """Reads a sealed dataset's profile document from the artifact store, as compact JSON text."""

    def read(event: DatasetSealedV1) -> str:
        if event.profile is None:
            return ""
        try:
            return json.dumps(json.loads(artifacts.get_bytes(event.profile)), separators=(",", ":"))
        except (LlmopsError, ValueError, OSError) as error:
            # The counts are still worth a row; profile_uri says where the document should be.
            log.warning("profile of dataset %s@%s unreadable: %r", event.name, event.version, error)
            return ""

    return read


@asynccontextmanager
async def running_sink(
    settings: PlatformSettings,
    store: TelemetryStore,
    routes: Mapping[str, TableRoute],
    *,
    broker: KafkaBroker,
    registry: CollectorRegistry,
    limits: BatchLimits,
    group_id: str = SINK_GROUP,
) -> AsyncIterator[BatchConsumer[PreparedBatch]]:
    """Consumes `routes`' topics into `store` until the block ends; yields the consumer (for readiness)."""

    async def dead_letter(record: Record, error: BaseException) -> None:
        await broker.connect()  # the service's broker may not be started yet; connecting twice is a no-op
        await send_to_dead_letter(broker, DEAD_LETTER_GROUP, record, error)

    # Only the embedded store can keep raw rows without their rollup rows (see rollup_repair).
    repair = None if settings.clickhouse_url else RollupRepair(store)
    sink = TelemetrySink(store, routes, dead_letter, SinkMetrics.create(registry), repair)
    consumer = BatchConsumer(
        settings, list(routes), sink, group_id=group_id, client_id=f"{group_id}-consumer", limits=limits
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()
