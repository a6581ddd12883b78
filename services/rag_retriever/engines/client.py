"""The chunk collection through qdrant-client: a Qdrant server, or the client's embedded local mode.

The server builds its indexes in the background, so `optimize()` has nothing to do. Local mode keeps
every point in Python and searches by brute force with filters evaluated in Python: it is correct
but slow past some ten thousand chunks, and it ignores payload indexes, so none are asked of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from llmops_common.events.base import DEFAULT_COLLECTION

from ..errors import RetrieverConfigError
from ..sparse import SparseVector
from ..tenancy import TenantScope
from .protocol import (
    CHUNK_INDEX_FIELD,
    COLLECTION_FIELD,
    DENSE_VECTOR,
    DOC_ID_FIELD,
    MAX_COLLECTIONS,
    SPARSE_VECTOR,
    TENANT_FIELD,
    CollectionCount,
    CollectionSpec,
    EngineHit,
    EngineQuery,
    StoredChunk,
    collection_counts,
)

WRITE_BATCH = 256
"""Points per upsert request: keeps a request body to a few megabytes."""
HTTP_CONFLICT = 409


class QdrantClientEngine:
    """One collection through a `QdrantClient`, which this engine owns and closes."""

    def __init__(self, client: QdrantClient, spec: CollectionSpec) -> None:
        self._client = client
        self._spec = spec

    @classmethod
    def open(cls, client: QdrantClient, spec: CollectionSpec) -> QdrantClientEngine:
        """The collection `spec.name` on `client`, created with its payload indexes on first use."""
        engine = cls(client, spec)
        engine._ensure_collection()
        return engine

    @property
    def collection(self) -> CollectionSpec:
        """The collection this engine reads and writes."""
        return self._spec

    def upsert(self, points: Sequence[StoredChunk]) -> None:
        """Writes `points` in batches, each acknowledged once applied."""
        for first in range(0, len(points), WRITE_BATCH):
            batch = [_point(point) for point in points[first : first + WRITE_BATCH]]
            self._client.upsert(self._spec.name, points=batch, wait=True)

    def delete_document(self, scope: TenantScope, doc_id: str, keep_ids: Sequence[str] = ()) -> None:
        """Deletes the chunks of `doc_id` within `scope`, except those in `keep_ids`."""
        keep: list[models.Condition] | None = [models.HasIdCondition(has_id=list(keep_ids))] if keep_ids else None
        selector = models.FilterSelector(filter=_scoped(scope, _doc(doc_id), must_not=keep))
        self._client.delete(self._spec.name, points_selector=selector, wait=True)

    def search(self, scope: TenantScope, query: EngineQuery) -> list[EngineHit]:
        """The best chunks of the tenant: one vector, or both fused by Qdrant's RRF."""
        only = _scoped(scope, _in(query.collection))
        if query.mode == "hybrid":
            response = self._client.query_points(
                self._spec.name,
                prefetch=[_prefetch(scope, query, DENSE_VECTOR), _prefetch(scope, query, SPARSE_VECTOR)],
                query=models.RrfQuery(rrf=models.Rrf(k=query.rrf_k)),
                query_filter=only,
                limit=query.limit,
                with_payload=True,
            )
        else:
            vector = DENSE_VECTOR if query.mode == "dense" else SPARSE_VECTOR
            response = self._client.query_points(
                self._spec.name,
                query=_nearest(query, vector),
                using=vector,
                query_filter=only,
                search_params=_params(scope, query, vector),
                limit=query.limit,
                with_payload=True,
            )
        return [EngineHit(point.score, point.payload or {}) for point in response.points]

    def document_chunks(self, scope: TenantScope, doc_id: str) -> list[EngineHit]:
        """Every chunk of `doc_id` within `scope`, in chunk order."""
        hits: list[EngineHit] = []
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self._spec.name, scroll_filter=_scoped(scope, _doc(doc_id)), limit=256, offset=offset
            )
            hits.extend(EngineHit(0.0, record.payload or {}) for record in records)
            if offset is None:
                return sorted(hits, key=lambda hit: int(hit.payload[CHUNK_INDEX_FIELD]))

    def count(self, scope: TenantScope, collection: str | None = None) -> int:
        """How many chunks the tenant has, in `collection` or in all its collections."""
        conditions = () if collection is None else (_in(collection),)
        return self._client.count(self._spec.name, count_filter=_scoped(scope, *conditions), exact=True).count

    def collections(self, scope: TenantScope) -> list[CollectionCount]:
        """The tenant's collections by name, counted by Qdrant's facets over the `collection` field."""

        def facet(*conditions: models.Condition) -> dict[str, int]:
            only = _scoped(scope, *conditions)
            response = self._client.facet(
                self._spec.name, COLLECTION_FIELD, facet_filter=only, limit=MAX_COLLECTIONS, exact=True
            )
            return {str(hit.value): hit.count for hit in response.hits}

        first_chunks = models.FieldCondition(key=CHUNK_INDEX_FIELD, match=models.MatchValue(value=0))
        return collection_counts(facet(), facet(first_chunks))

    def optimize(self) -> bool:
        """Nothing to do: a server optimizes in the background, and local mode has no index."""
        return False

    def ready(self) -> bool:
        """Whether Qdrant answers a collection listing now."""
        try:
            self._client.get_collections()
        except Exception:
            return False
        return True

    def close(self) -> None:
        """Closes the client (and releases local mode's folder)."""
        self._client.close()

    def _ensure_collection(self) -> None:
        name = self._spec.name
        if self._client.collection_exists(name):
            self._check_dimension()
            self._ensure_collection_field()
            return
        try:
            dense = models.VectorParams(size=self._spec.dimension, distance=models.Distance.COSINE)
            sparse = models.SparseVectorParams(modifier=models.Modifier.IDF)
            self._client.create_collection(
                name, vectors_config={DENSE_VECTOR: dense}, sparse_vectors_config={SPARSE_VECTOR: sparse}
            )
        except UnexpectedResponse as error:
            if error.status_code != HTTP_CONFLICT:  # another replica created it first
                raise
        if not _is_local_mode(self._client):
            tenant_index = models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True)
            doc_index = models.PayloadSchemaType.KEYWORD
            self._client.create_payload_index(name, TENANT_FIELD, field_schema=tenant_index, wait=True)
            self._client.create_payload_index(name, DOC_ID_FIELD, field_schema=doc_index, wait=True)
        self._ensure_collection_field()

    def _ensure_collection_field(self) -> None:
        """Indexes the `collection` field (listing facets on it), and puts chunks written before collections
        existed into the default collection, where they were found."""
        name = self._spec.name
        if not _is_local_mode(self._client):
            keyword = models.PayloadSchemaType.KEYWORD
            self._client.create_payload_index(name, COLLECTION_FIELD, field_schema=keyword, wait=True)
        unlabelled = models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key=COLLECTION_FIELD))])
        if self._client.count(name, count_filter=unlabelled, exact=True).count:
            selector = models.FilterSelector(filter=unlabelled)
            self._client.set_payload(name, {COLLECTION_FIELD: DEFAULT_COLLECTION}, points=selector, wait=True)

    def _check_dimension(self) -> None:
        vectors = self._client.get_collection(self._spec.name).config.params.vectors
        dense = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
        if dense is None or dense.size != self._spec.dimension:
            raise RetrieverConfigError(
                f"collection {self._spec.name!r} exists without a {self._spec.dimension}-dimension "
                f"{DENSE_VECTOR!r} vector; was it made for another embedding model?"
            )


def _is_local_mode(client: QdrantClient) -> bool:
    options = client.init_options
    return bool(options.get("path")) or options.get("location") == ":memory:"


def _scoped(
    scope: TenantScope, *conditions: models.Condition, must_not: list[models.Condition] | None = None
) -> models.Filter:
    """The tenant's must-match condition and `conditions`: the only way this module builds a filter."""
    tenant = models.FieldCondition(key=TENANT_FIELD, match=models.MatchValue(value=scope.tenant))
    return models.Filter(must=[tenant, *conditions], must_not=must_not)


def _in(collection: str) -> models.FieldCondition:
    return models.FieldCondition(key=COLLECTION_FIELD, match=models.MatchValue(value=collection))


def _doc(doc_id: str) -> models.FieldCondition:
    return models.FieldCondition(key=DOC_ID_FIELD, match=models.MatchValue(value=doc_id))


def _point(point: StoredChunk) -> models.PointStruct:
    vector: dict[str, Any] = {DENSE_VECTOR: list(point.dense), SPARSE_VECTOR: _sparse(point.sparse)}
    return models.PointStruct(id=point.id, vector=vector, payload=dict(point.payload))


def _sparse(vector: SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _nearest(query: EngineQuery, vector: str) -> list[float] | models.SparseVector:
    if vector == DENSE_VECTOR:
        if query.dense is None:
            raise ValueError("a dense search needs a dense query vector")
        return list(query.dense)
    if query.sparse is None:
        raise ValueError("a keyword search needs a sparse query vector")
    return _sparse(query.sparse)


def _params(scope: TenantScope, query: EngineQuery, vector: str) -> models.SearchParams | None:
    if vector == SPARSE_VECTOR and query.tenant_idf:
        return models.SearchParams(idf=models.IdfCorpusParams(corpus=_scoped(scope)))
    return None


def _prefetch(scope: TenantScope, query: EngineQuery, vector: str) -> models.Prefetch:
    return models.Prefetch(
        query=_nearest(query, vector),
        using=vector,
        filter=_scoped(scope, _in(query.collection)),
        params=_params(scope, query, vector),
        limit=query.candidates,
    )
