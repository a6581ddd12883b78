"""The ingestion service's subscription: raw records from `llmops.data.raw`."""

from __future__ import annotations

from llmops_common.events import RecordSubmittedV1
from llmops_common.kafka.consumer import EventConsumer, EventContext
from llmops_common.topics import DATA_RAW

from .service import Ingestion

GROUP = "ingestion"


def subscribe(consumer: EventConsumer, ingestion: Ingestion) -> None:
    """Feeds every raw record to the pipeline; a malformed one goes to the dead-letter topic."""

    async def on_record(record: RecordSubmittedV1, context: EventContext) -> None:
        await ingestion.ingest(record, context.envelope.id)

    consumer.subscribe(DATA_RAW, [RecordSubmittedV1], on_record, group_id=GROUP)
