"""A tenant's collections, its named knowledge bases of documents for RAG: listed as the retriever has
indexed them, and deleted from every index.

The retriever holds the index, so a listing asks it, over the platform's Kafka request/reply: what it
says is what a RAG request can find. This service owns the documents, so it deletes: every live
document of the collection gets a `DocumentErasedV1` on `llmops.data.documents`, keyed by its doc id
like its versions. Kafka keeps one key's events in order, so a version still on its way to the
retriever is indexed before its erasure, never after; one event for the whole collection could
overtake them, on another partition, and the collection would come back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from llmops_common.errors import NotFoundError, RetryableError
from llmops_common.events import CollectionsListedV1, CollectionsRequestedV1, DocumentErasedV1
from llmops_common.events.retrieval import CollectionSummary
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.kafka.request_reply import Requester
from llmops_common.topics import RETRIEVAL_REQUESTS

from .pipeline.pipeline import IngestionPipeline
from .store import IngestionStore

AskRetriever = Callable[[CollectionsRequestedV1], Awaitable[CollectionsListedV1]]
"""Sends one listing request and returns the reply; raises `RequestTimeoutError` when the retriever is late."""


class CollectionNotFoundError(NotFoundError):
    """The tenant has no live document in the collection."""

    code = "collection_not_found"


class RetrieverFailedError(RetryableError):
    """The retriever answered a listing with an error."""

    code = "retriever_failed"


def retriever_asker(requester: Requester[CollectionsListedV1], timeout: float) -> AskRetriever:
    """Asks through `requester`, once its reply consumer holds its position (else a reply could pass unseen)."""

    async def ask(request: CollectionsRequestedV1) -> CollectionsListedV1:
        return await requester.request_when_ready(request, topic=RETRIEVAL_REQUESTS.name, timeout=timeout)

    return ask


@dataclass(frozen=True)
class CollectionCatalog:
    """Lists a tenant's collections through the retriever, and deletes them."""

    store: IngestionStore
    pipeline: IngestionPipeline
    publisher: EventPublisher
    ask_retriever: AskRetriever

    async def summaries(self, tenant: str) -> list[CollectionSummary]:
        """The tenant's collections by name, with the documents and chunks indexed in each."""
        request = CollectionsRequestedV1(request_id=f"collections-{uuid.uuid4().hex}", tenant=tenant)
        answer = await self.ask_retriever(request)
        if answer.error is not None:
            raise RetrieverFailedError(f"the retriever could not list the collections: {answer.error}")
        return answer.collections

    async def delete(self, tenant: str, name: str, requested_by: str) -> int:
        """Erases every live document of the tenant's collection from the index; returns how many.

        As with an erasure, the documents are marked erased only once their events are on Kafka, so a
        request that fails half-way can be sent again; and they leave the dedup index, so that the same
        text can be ingested anew.
        """
        documents = self.store.collection_documents(tenant, name)
        if not documents:
            raise CollectionNotFoundError(f"the tenant has no collection {name!r}")
        await self.publisher.publish_many(
            [
                DocumentErasedV1(
                    doc_id=doc_id,
                    tenant=tenant,
                    reason=f"collection {name} deleted",
                    requested_by=requested_by,
                    collection=name,
                )
                for doc_id in documents
            ]
        )
        self.store.erase_documents(documents)
        for doc_id in documents:
            self.pipeline.forget(doc_id)
        return len(documents)
