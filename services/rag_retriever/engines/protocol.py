"""What the chunk index needs from a vector store, and the plain values that cross the boundary.

Every read and delete takes a `TenantScope`; an engine turns it into a must-match filter on the
`tenant` payload field in the one place where it builds its filters, so no engine can query unscoped.
A search also matches the `collection` payload field: a tenant's collections (knowledge bases) are
partitions of the payload inside the one physical collection of the embedding model, not Qdrant
collections of their own (see `index`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..sparse import SparseVector
from ..tenancy import TenantScope

SearchMode = Literal["dense", "sparse", "hybrid"]
"""Dense (cosine over embeddings), sparse (BM25 over word pieces), or both fused by reciprocal rank."""

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "sparse"
"""The names of the two vectors of every point."""

TENANT_FIELD = "tenant"
COLLECTION_FIELD = "collection"
DOC_ID_FIELD = "doc_id"
CHUNK_INDEX_FIELD = "chunk_index"
"""Payload fields the engines filter or order on."""

MAX_COLLECTIONS = 10_000
"""The most collections of one tenant a listing returns."""


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """A collection of chunks: its name and the size of its dense vectors."""

    name: str
    dimension: int


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """One point to write: its id, both vectors, and the payload (which carries its tenant)."""

    id: str
    dense: Sequence[float]
    sparse: SparseVector
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EngineQuery:
    """One search, already embedded; `candidates` is how many each side of a hybrid search brings to fusion."""

    mode: SearchMode
    collection: str
    """The tenant's collection to search."""
    dense: Sequence[float] | None
    sparse: SparseVector | None
    limit: int
    candidates: int
    rrf_k: int
    tenant_idf: bool
    """Take the keyword side's IDF from the tenant's own chunks, so other tenants' texts never sway a score."""


@dataclass(frozen=True, slots=True)
class EngineHit:
    """A point that matched: its score and its payload."""

    score: float
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CollectionCount:
    """One collection of a tenant: its name, its documents and its chunks."""

    name: str
    documents: int
    chunks: int


def collection_counts(chunks: Mapping[str, int], documents: Mapping[str, int]) -> list[CollectionCount]:
    """The collections by name, from the chunk count of each and the count of its first chunks (one per
    document)."""
    return [CollectionCount(name, documents.get(name, 0), count) for name, count in sorted(chunks.items())]


class VectorEngine(Protocol):
    """One collection of chunks in one store."""

    @property
    def collection(self) -> CollectionSpec:
        """The collection this engine reads and writes."""

    def upsert(self, points: Sequence[StoredChunk]) -> None:
        """Writes `points`, replacing any with the same ids; durable when it returns."""

    def delete_document(self, scope: TenantScope, doc_id: str, keep_ids: Sequence[str] = ()) -> None:
        """Deletes the chunks of `doc_id` within `scope`, except the points whose ids are in `keep_ids`."""

    def search(self, scope: TenantScope, query: EngineQuery) -> list[EngineHit]:
        """The best `query.limit` chunks of the tenant, best first."""

    def document_chunks(self, scope: TenantScope, doc_id: str) -> list[EngineHit]:
        """Every chunk of `doc_id` within `scope`, in chunk order, with score 0."""

    def count(self, scope: TenantScope, collection: str | None = None) -> int:
        """How many chunks the tenant has, in `collection` or in all its collections."""

    def collections(self, scope: TenantScope) -> list[CollectionCount]:
        """The tenant's collections that hold a chunk, by name."""

    def optimize(self) -> bool:
        """Builds the search indexes of recently written points, if the store leaves that to its caller.

        True when something was done. It may block for seconds; see the engine's notes.
        """

    def ready(self) -> bool:
        """Whether the store answers now; for `/readyz`."""

    def close(self) -> None:
        """Flushes and releases the store."""
