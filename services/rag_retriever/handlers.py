"""The retriever's subscriptions: documents to index or erase, and requests to answer (retrieval, and the
listing of a tenant's collections).

The model runs on a worker thread, one call at a time, so the event loop keeps answering Kafka while a
batch of chunks is embedded. Requests are latency-sensitive: each is taken as it arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from llmops_common.errors import InvalidEventError, PermanentError
from llmops_common.events import (
    CollectionsListedV1,
    CollectionsRequestedV1,
    DocumentErasedV1,
    DocumentIngestedV1,
    Event,
    RetrievalAnsweredV1,
    RetrievalRequestedV1,
)
from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.events.retrieval import CollectionSummary, RetrievedChunk
from llmops_common.kafka.consumer import EventConsumer, EventContext
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.kafka.request_reply import invalid_request_replier, send_reply
from llmops_common.topics import DATA_DOCUMENTS, RETRIEVAL_REQUESTS

from .retriever import DocumentText, Retriever

GROUP = "rag_retriever"
REQUESTS_GROUP_SUFFIX = ".requests"
"""The Kafka consumer group of requests is the service's group with this suffix."""
UNKNOWN_REQUEST_ID = "unknown"
T = TypeVar("T")


class RetrieverHandlers:
    """Runs the retriever's work off the event loop and answers requests."""

    def __init__(self, retriever: Retriever, publisher: EventPublisher) -> None:
        self._retriever = retriever
        self._publisher = publisher
        self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retriever-model")

    def subscribe(self, consumer: EventConsumer, group_id: str = GROUP) -> None:
        """Registers both subscriptions for `group_id`; requests are read by a Kafka group of their own.

        Two consumers in one Kafka group rebalance each other: a request would wait on the document
        indexer's rebalance, and Tansu can strand a group whose two members leave at once.
        """
        consumer.subscribe(DATA_DOCUMENTS, [DocumentIngestedV1, DocumentErasedV1], self.on_document, group_id=group_id)
        consumer.subscribe(
            RETRIEVAL_REQUESTS,
            [RetrievalRequestedV1, CollectionsRequestedV1],
            self.on_request,
            group_id=group_id,
            kafka_group_id=f"{group_id}{REQUESTS_GROUP_SUFFIX}",
            latency_sensitive=True,
            on_invalid=invalid_request_replier(self._publisher, invalid_request_answer),
        )

    async def on_document(self, event: DocumentIngestedV1 | DocumentErasedV1, context: EventContext) -> None:
        """Indexes a new document version (replacing its old chunks), or removes an erased document."""
        if isinstance(event, DocumentErasedV1):
            await self._on_model_thread(self._retriever.erase_document, event.tenant, event.doc_id)
            return
        collection = event.collection or DEFAULT_COLLECTION
        document = DocumentText(event.tenant, event.doc_id, event.version, event.text, event.metadata, collection)
        await self._on_model_thread(self._retriever.index_document, document)

    async def on_request(self, request: RetrievalRequestedV1 | CollectionsRequestedV1, context: EventContext) -> None:
        """Answers a retrieval request or a listing of collections."""
        if isinstance(request, CollectionsRequestedV1):
            await send_reply(self._publisher, context, await self._collections(request))
        else:
            await send_reply(self._publisher, context, await self._retrieval(request))

    async def _collections(self, request: CollectionsRequestedV1) -> CollectionsListedV1:
        try:
            counts = await self._on_model_thread(self._retriever.collections, request.tenant)
        except PermanentError as error:
            return CollectionsListedV1(request_id=request.request_id, error=error.message)
        summaries = [CollectionSummary(name=c.name, documents=c.documents, chunks=c.chunks) for c in counts]
        return CollectionsListedV1(request_id=request.request_id, collections=summaries)

    async def _retrieval(self, request: RetrievalRequestedV1) -> RetrievalAnsweredV1:
        """The tenant's top chunks, or the reason there are none: an unknown collection, say."""
        try:
            hits = await self._on_model_thread(
                self._retriever.search, request.tenant, request.query, request.top_k, request.mode, request.collection
            )
        except PermanentError as error:
            return RetrievalAnsweredV1(request_id=request.request_id, error=error.message, error_code=error.code)
        chunks = [
            RetrievedChunk(
                doc_id=hit.doc_id,
                chunk_index=hit.chunk_index,
                text=hit.text,
                score=hit.score,
                metadata=dict(hit.metadata),
            )
            for hit in hits
        ]
        return RetrievalAnsweredV1(request_id=request.request_id, chunks=chunks)

    def close(self) -> None:
        """Lets the model thread finish what it runs, then stops it."""
        self._model_thread.shutdown(wait=True)

    async def _on_model_thread(self, call: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._model_thread, call, *args)


def invalid_request_answer(event_type: str, body: Mapping[str, Any], error: InvalidEventError) -> Event:
    """The error reply to a request that failed validation, such as one without a tenant, of the type its
    requester awaits."""
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not 1 <= len(request_id) <= 128:
        request_id = UNKNOWN_REQUEST_ID
    if event_type == CollectionsRequestedV1.event_type:
        return CollectionsListedV1(request_id=request_id, error=f"invalid collections request: {error.message}")
    return RetrievalAnsweredV1(request_id=request_id, error=f"invalid retrieval request: {error.message}")
