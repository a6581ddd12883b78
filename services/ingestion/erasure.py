"""Right to erasure: a document, or every record of a data subject, removed from the service's store
(so from every future dataset version), from the dedup index, and from the retriever's index.

Each erased document gets a `DocumentErasedV1` on `llmops.data.documents`, which the retriever acts
on; the request itself is recorded as an `ErasureCompletedV1` on `llmops.data.erasures`, the audit
log. Sealed dataset versions are immutable and stay as they are: the next version leaves the records
out. A document is marked erased only after its erasure event is on Kafka, so a request that fails
half-way can simply be sent again.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from llmops_common.events import DocumentErasedV1, ErasureCompletedV1
from llmops_common.kafka.publisher import EventPublisher

from .pipeline.pipeline import IngestionPipeline
from .store import IngestionStore, SubjectSelector


@dataclass(frozen=True)
class ErasureRequest:
    """What to erase, for whom, and who asks; exactly one of `doc_id` and `subject` is set."""

    tenant: str
    requested_by: str
    reason: str
    doc_id: str | None = None
    subject: SubjectSelector | None = None

    def __post_init__(self) -> None:
        if (self.doc_id is None) == (self.subject is None):
            raise ValueError("an erasure selects either a doc_id or a subject")


@dataclass(frozen=True)
class Eraser:
    """Carries out erasure requests against the store, the dedup index and the retriever."""

    store: IngestionStore
    pipeline: IngestionPipeline
    publisher: EventPublisher
    seal_lock: asyncio.Lock
    """The sealer's lock: a seal under way finishes before an erasure starts, and none starts meanwhile."""

    async def erase(self, request: ErasureRequest) -> ErasureCompletedV1:
        """Erases what the request selects, and returns its audit record, published."""
        async with self.seal_lock:
            return await self._erase(request)

    async def _erase(self, request: ErasureRequest) -> ErasureCompletedV1:
        selector = request.doc_id if request.doc_id is not None else request.subject
        assert selector is not None  # noqa: S101 - ErasureRequest guarantees one of them
        erasure_id = uuid.uuid4().hex
        requested_at = datetime.now(UTC)
        documents = self.store.live_documents(request.tenant, selector)
        removed, example_docs = self.store.remove_examples(request.tenant, selector)
        await self.publisher.publish_many(
            [
                DocumentErasedV1(
                    doc_id=doc_id,
                    tenant=request.tenant,
                    reason=request.reason,
                    requested_by=request.requested_by,
                    erasure_id=erasure_id,
                )
                for doc_id in documents
            ]
        )
        self.store.erase_documents(documents)
        for doc_id in {*documents, *example_docs}:
            self.pipeline.forget(doc_id)
        audit = ErasureCompletedV1(
            erasure_id=erasure_id,
            tenant=request.tenant,
            requested_by=request.requested_by,
            requested_at=requested_at,
            reason=request.reason,
            doc_id=request.doc_id,
            metadata_key=request.subject.key if request.subject else None,
            metadata_value=request.subject.value if request.subject else None,
            documents_erased=len(documents),
            examples_removed=sum(removed.values()),
            datasets=sorted(removed),
        )
        await self.publisher.publish(audit)
        return audit
