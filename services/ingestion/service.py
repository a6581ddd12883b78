"""What the ingestion service does with one raw record: clean it, then publish, keep or log what is left."""

from __future__ import annotations

from dataclasses import dataclass

from llmops_common.events import DocumentIngestedV1, RecordSubmittedV1
from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.kafka.publisher import EventPublisher

from .datasets import Example
from .pipeline.outcomes import CleanRecord, Outcome, Rejected
from .pipeline.pipeline import IngestionPipeline
from .profile import tallies_of
from .store import IngestionStore

DEFAULT_DATASET = "default"
"""Where an example goes when its record names no dataset."""


@dataclass(frozen=True)
class Ingestion:
    """The pipeline, the service's store, and where clean documents are published."""

    pipeline: IngestionPipeline
    store: IngestionStore
    publisher: EventPublisher

    async def ingest(self, record: RecordSubmittedV1, event_id: str) -> Outcome:
        """Runs one record through the pipeline and acts on its outcome."""
        outcome = self.pipeline.process(record)
        if record.kind == "example":
            # Every example record counts in its dataset's profile, whatever its fate.
            self.store.ledger.tally(record.tenant, record.dataset or DEFAULT_DATASET, tallies_of(outcome))
        if isinstance(outcome, Rejected):
            self.store.log_reject(
                outcome.tenant, outcome.record_id, outcome.source, outcome.reason.value, outcome.detail
            )
        elif isinstance(outcome, CleanRecord) and outcome.kind == "document":
            await self._publish_document(outcome)
        elif isinstance(outcome, CleanRecord):
            dataset = outcome.dataset or DEFAULT_DATASET
            self.store.add_example(outcome.tenant, dataset, example_of(outcome), event_id, outcome.doc_id)
        return outcome

    async def _publish_document(self, clean: CleanRecord) -> None:
        collection = clean.collection or DEFAULT_COLLECTION
        version = self.store.pending_document_version(clean.doc_id, clean.content_sha256, collection)
        if version is None:
            return  # the same content in the same collection again: the index has it already
        # Recorded only once the broker has the event: a publish that fails (the handler tries the record
        # again) or a crash before the record leaves the version unrecorded, so the record publishes it
        # again rather than finding it "unchanged". The index takes a version it has again as it is.
        await self.publisher.publish(
            DocumentIngestedV1(
                doc_id=clean.doc_id,
                version=version,
                tenant=clean.tenant,
                source=clean.source,
                text=clean.text or "",
                metadata=clean.metadata,
                collection=collection,
            )
        )
        self.store.record_document_version(
            clean.doc_id, clean.tenant, version, clean.content_sha256, clean.metadata, collection
        )


def example_of(clean: CleanRecord) -> Example:
    """The dataset row of a clean example."""
    messages = None if clean.messages is None else tuple((m.role, m.content) for m in clean.messages)
    return Example(
        clean.record_id, clean.source, clean.prompt, clean.completion, messages, tuple(sorted(clean.metadata.items()))
    )
