"""The request and reply events of retrieval for RAG, the platform's one synchronous call, and of the listing
of a tenant's collections (knowledge bases) as the retriever holds them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import ClosedModel, CollectionName, Event, Metadata, TenantId

COLLECTION_NOT_FOUND = "collection_not_found"
"""The `error_code` of an answer to a request that names a collection the tenant does not have."""


class RetrievalRequestedV1(Event):
    """A service asks the retriever for the chunks closest to a query, within one tenant."""

    event_type = "llmops.retrieval.requested.v1"

    request_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    collection: str = Field(min_length=1, max_length=128)
    """The tenant's knowledge base to search; one it does not have is answered with `collection_not_found`."""
    query: str = Field(min_length=1, max_length=8192)
    top_k: int = Field(default=5, ge=1, le=100)
    mode: Literal["dense", "sparse", "hybrid"] | None = None
    """Dense vectors, BM25 keywords, or both fused by reciprocal rank; None: the retriever's default."""

    def event_key(self) -> str:
        return self.request_id


class RetrievedChunk(ClosedModel):
    """One chunk of a document that matched a query."""

    doc_id: str
    chunk_index: int = Field(ge=0)
    text: str
    score: float
    metadata: Metadata = Field(default_factory=dict)


class RetrievalAnsweredV1(Event):
    """The retriever's reply: the top chunks, or the error that kept it from answering."""

    event_type = "llmops.retrieval.answered.v1"

    request_id: str = Field(min_length=1, max_length=128)
    chunks: list[RetrievedChunk] = Field(default_factory=list)
    error: str | None = None
    error_code: str | None = Field(
        default=None,
        description=f"The code of `error`: `{COLLECTION_NOT_FOUND}` when the tenant has no such collection.",
    )

    def event_key(self) -> str:
        return self.request_id


class CollectionsRequestedV1(Event):
    """A service asks the retriever for a tenant's collections, as indexed."""

    event_type = "llmops.retrieval.collections.requested.v1"

    request_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId

    def event_key(self) -> str:
        return self.request_id


class CollectionSummary(ClosedModel):
    """One collection of a tenant: how many documents and chunks of it are indexed."""

    name: CollectionName
    documents: int = Field(ge=0)
    chunks: int = Field(ge=0)


class CollectionsListedV1(Event):
    """The retriever's reply: the tenant's collections by name, or the error that kept it from answering."""

    event_type = "llmops.retrieval.collections.listed.v1"

    request_id: str = Field(min_length=1, max_length=128)
    collections: list[CollectionSummary] = Field(default_factory=list)
    error: str | None = None

    def event_key(self) -> str:
        return self.request_id
