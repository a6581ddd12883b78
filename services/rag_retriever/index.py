"""The chunk index: one collection per embedding model, written per document and read per tenant.

A point is one chunk. Its id is derived from (tenant, doc_id, chunk_index), so writing a document
again overwrites its chunks in place; its payload holds the tenant, collection, doc_id, doc_version,
chunk_index, text and the document's metadata. Every read takes the tenant first and fails closed
without one.

A tenant's collections (its named knowledge bases) are not Qdrant collections: they are a payload
field, matched with the tenant in every search. That is how Qdrant means a multi-tenant store to be
partitioned: one physical collection per vector configuration, with tenants (and their knowledge
bases) as indexed payload, since each Qdrant collection costs memory, files and optimizer runs of its
own, and thousands of small ones would not scale. A document lives in one collection at a time:
writing it again into another one moves it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmops_common.embedding.sentence_embedder import Vectors
from llmops_common.events.base import DEFAULT_COLLECTION

from .chunking import Chunk
from .engines.protocol import (
    CHUNK_INDEX_FIELD,
    COLLECTION_FIELD,
    DOC_ID_FIELD,
    TENANT_FIELD,
    CollectionCount,
    EngineHit,
    EngineQuery,
    SearchMode,
    StoredChunk,
    VectorEngine,
)
from .fusion import DEFAULT_RRF_K
from .sparse import SparseVector
from .tenancy import TenantScope

COLLECTION_PREFIX = "chunks__"
_CHUNK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "llmops:rag_retriever:chunk")


def collection_name(model_slug: str) -> str:
    """The collection of the chunks embedded by the model `model_slug`: `chunks__all-minilm-l6-v2`."""
    return f"{COLLECTION_PREFIX}{model_slug}"


def chunk_point_id(tenant: str, doc_id: str, chunk_index: int) -> str:
    """The point id of a chunk: stable across writes, and distinct per tenant even for equal doc ids.

    A tenant holds no "/", and the index comes last, so the joined name is unambiguous.
    """
    return str(uuid.uuid5(_CHUNK_NAMESPACE, f"{tenant}/{doc_id}/{chunk_index}"))


def chunk_payload(
    tenant: str,
    doc_id: str,
    version: int,
    chunk_index: int,
    text: str,
    metadata: Mapping[str, Any],
    collection: str = DEFAULT_COLLECTION,
) -> dict[str, Any]:
    """The payload of a chunk's point: what a search returns, and the fields the filters match."""
    return {
        TENANT_FIELD: tenant,
        COLLECTION_FIELD: collection,
        DOC_ID_FIELD: doc_id,
        "doc_version": version,
        CHUNK_INDEX_FIELD: chunk_index,
        "text": text,
        "metadata": dict(metadata),
    }


@dataclass(frozen=True, slots=True)
class ChunkHit:
    """A chunk a search returned: where it comes from, its text and score (cosine, BM25 or fused RRF)."""

    doc_id: str
    doc_version: int
    chunk_index: int
    text: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """How hybrid search fuses, and whose statistics weigh keywords."""

    candidates: int = 50
    rrf_k: int = DEFAULT_RRF_K
    tenant_idf: bool = True


class ChunkIndex:
    """The chunks of one embedding model's collection, behind any `VectorEngine`."""

    def __init__(self, engine: VectorEngine, search: SearchSettings | None = None) -> None:
        self._engine = engine
        self._search = search or SearchSettings()

    @property
    def collection(self) -> str:
        """The name of the collection."""
        return self._engine.collection.name

    def replace_document(
        self,
        tenant: str | None,
        doc_id: str,
        version: int,
        chunks: Sequence[Chunk],
        dense: Vectors | Sequence[Sequence[float]],
        sparse: Sequence[SparseVector],
        metadata: Mapping[str, Any] | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> int:
        """Makes `chunks` the document's only chunks, in `collection`; returns how many were written.

        The new chunks are written first, overwriting those with the same index, and then every other
        chunk of the document is deleted: a search never finds the document missing mid-way. A
        document with no chunks is deleted.
        """
        scope = TenantScope.of(tenant)
        if not len(chunks) == len(dense) == len(sparse):
            raise ValueError(f"{len(chunks)} chunks, {len(dense)} dense and {len(sparse)} sparse vectors")
        points = [
            StoredChunk(
                id=chunk_point_id(scope.tenant, doc_id, chunk.index),
                dense=self._dense_row(row),
                sparse=keywords,
                payload=chunk_payload(
                    scope.tenant, doc_id, version, chunk.index, chunk.text, metadata or {}, collection
                ),
            )
            for chunk, row, keywords in zip(chunks, dense, sparse, strict=True)
        ]
        self._engine.upsert(points)
        self._engine.delete_document(scope, doc_id, keep_ids=[point.id for point in points])
        return len(points)

    def delete_document(self, tenant: str | None, doc_id: str) -> None:
        """Deletes every chunk of the tenant's document `doc_id` (nothing if it has none)."""
        self._engine.delete_document(TenantScope.of(tenant), doc_id)

    def search(
        self,
        tenant: str | None,
        query_dense: Vectors | Sequence[float] | None,
        query_sparse: SparseVector | None,
        top_k: int = 5,
        mode: SearchMode = "hybrid",
        collection: str = DEFAULT_COLLECTION,
    ) -> list[ChunkHit]:
        """The `top_k` chunks of the tenant's `collection` closest to the query, best first; raises without
        a valid tenant.

        Hybrid search falls back to dense when the query has no keyword (only punctuation, say); a
        keyword search for such a query finds nothing.
        """
        scope = TenantScope.of(tenant)
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        if mode == "hybrid" and (query_sparse is None or query_sparse.is_empty):
            mode = "dense"
        if mode == "sparse" and (query_sparse is None or query_sparse.is_empty):
            return []
        dense = None if query_dense is None else self._dense_row(query_dense)
        if mode != "sparse" and dense is None:
            raise ValueError(f"a {mode} search needs a dense query vector")
        query = EngineQuery(
            mode=mode,
            collection=collection,
            dense=dense,
            sparse=query_sparse,
            limit=top_k,
            candidates=max(top_k, self._search.candidates),
            rrf_k=self._search.rrf_k,
            tenant_idf=self._search.tenant_idf,
        )
        return [_hit(hit) for hit in self._engine.search(scope, query)]

    def document_chunks(self, tenant: str | None, doc_id: str) -> list[ChunkHit]:
        """Every stored chunk of the tenant's document, in order."""
        return [_hit(hit) for hit in self._engine.document_chunks(TenantScope.of(tenant), doc_id)]

    def count(self, tenant: str | None, collection: str | None = None) -> int:
        """How many chunks the tenant has, in `collection` or in all its collections."""
        return self._engine.count(TenantScope.of(tenant), collection)

    def collections(self, tenant: str | None) -> list[CollectionCount]:
        """The tenant's collections that hold a chunk, by name, with their documents and chunks."""
        return self._engine.collections(TenantScope.of(tenant))

    def optimize(self) -> bool:
        """Lets the store index recent writes when it is due; True when it did (see the engine's notes)."""
        return self._engine.optimize()

    def ready(self) -> bool:
        """Whether the store answers now."""
        return self._engine.ready()

    def close(self) -> None:
        """Flushes and releases the store."""
        self._engine.close()

    def _dense_row(self, row: Vectors | Sequence[float]) -> list[float]:
        values: list[float] = np.asarray(row, dtype=np.float32).ravel().tolist()
        expected = self._engine.collection.dimension
        if len(values) != expected:
            raise ValueError(f"a {len(values)}-dimension vector for a {expected}-dimension collection")
        return values


def _hit(hit: EngineHit) -> ChunkHit:
    payload = hit.payload
    return ChunkHit(
        doc_id=str(payload[DOC_ID_FIELD]),
        doc_version=int(payload["doc_version"]),
        chunk_index=int(payload[CHUNK_INDEX_FIELD]),
        text=str(payload["text"]),
        score=float(hit.score),
        metadata=dict(payload.get("metadata") or {}),
    )
