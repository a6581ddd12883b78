"""The retriever's domain logic without Kafka or HTTP: documents in, chunks stored; queries in, chunks out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_common.embedding.backends import load_embedder
from llmops_common.embedding.model_files import load_tokenizer, locate_model
from llmops_common.embedding.sentence_embedder import Embedder, Vectors
from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.settings import PlatformSettings

from .chunking import Chunk, Chunker
from .config import RetrieverConfig
from .engines.opening import open_engine
from .engines.protocol import CollectionCount, CollectionSpec, SearchMode
from .errors import CollectionNotFoundError
from .index import ChunkHit, ChunkIndex, SearchSettings, collection_name
from .sparse import Bm25Encoder, Bm25Params
from .tenancy import TenantScope


@dataclass(frozen=True, slots=True)
class DocumentText:
    """A version of a document to index, as the `llmops.data.documents` event carries it."""

    tenant: str
    doc_id: str
    version: int
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    collection: str = DEFAULT_COLLECTION


class Retriever:
    """Chunks, embeds and stores documents, and searches them, always within one tenant."""

    def __init__(
        self,
        chunker: Chunker,
        embedder: Embedder,
        keywords: Bm25Encoder,
        index: ChunkIndex,
        default_mode: SearchMode = "hybrid",
    ) -> None:
        self.chunker = chunker
        self.embedder = embedder
        self.keywords = keywords
        self.index = index
        self.default_mode = default_mode

    def index_documents(self, documents: Sequence[DocumentText]) -> list[int]:
        """Indexes each document, replacing its earlier chunks; returns the chunk count of each.

        The chunks of all the documents are embedded together, so a batch of short documents still
        fills the model's batches. Every tenant is checked before any work is done. Afterwards the
        store indexes what was written if enough has piled up: with Qdrant Edge that blocks the whole
        process for a few seconds once every `optimize_after_chunks` chunks (see `engines.edge`).
        """
        for document in documents:
            TenantScope.of(document.tenant)
        chunked = [self.chunker.split(document.text) for document in documents]
        vectors = self.embedder.embed_documents([chunk.text for chunks in chunked for chunk in chunks])
        written, first = [], 0
        for document, chunks in zip(documents, chunked, strict=True):
            rows = vectors[first : first + len(chunks)]
            first += len(chunks)
            written.append(self._replace(document, chunks, rows))
        self.index.optimize()
        return written

    def index_document(self, document: DocumentText) -> int:
        """Indexes one document; see `index_documents`."""
        return self.index_documents([document])[0]

    def erase_document(self, tenant: str | None, doc_id: str) -> None:
        """Removes every chunk of the tenant's document (right to erasure, or a deleted document)."""
        self.index.delete_document(tenant, doc_id)

    def search(
        self,
        tenant: str | None,
        query: str,
        top_k: int = 5,
        mode: SearchMode | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> list[ChunkHit]:
        """The `top_k` chunks of the tenant's `collection` for `query`; the tenant is checked before the
        query is embedded. Raises `CollectionNotFoundError` when the collection holds no chunk of the tenant."""
        scope = TenantScope.of(tenant)
        mode = mode or self.default_mode
        dense = self.embedder.embed_query(query) if mode != "sparse" else None
        sparse = self.keywords.encode_query(query) if mode != "dense" else None
        hits = self.index.search(scope.tenant, dense, sparse, top_k, mode, collection)
        # Only an empty answer can mean an unknown collection: the count costs nothing on the common path.
        if not hits and self.index.count(scope.tenant, collection) == 0:
            raise CollectionNotFoundError(f"the tenant has no collection {collection!r}")
        return hits

    def collections(self, tenant: str | None) -> list[CollectionCount]:
        """The tenant's collections by name, with how many documents and chunks of each are indexed."""
        return self.index.collections(tenant)

    def close(self) -> None:
        """Releases the store."""
        self.index.close()

    def _replace(self, document: DocumentText, chunks: Sequence[Chunk], rows: Vectors) -> int:
        sparse = [self.keywords.encode_document_tokens(chunk.token_ids) for chunk in chunks]
        return self.index.replace_document(
            document.tenant,
            document.doc_id,
            document.version,
            chunks,
            rows,
            sparse,
            document.metadata,
            document.collection,
        )


def open_retriever(
    config: RetrieverConfig, settings: PlatformSettings, state_dir: Path, embedder: Embedder | None = None
) -> Retriever:
    """Loads the model (unless `embedder` is given) on the settings' backend and opens its collection;
    close the retriever after use.

    Opening also lets the store index whatever an earlier process wrote but left unindexed, which can
    take a while (about a minute for 100k chunks on two cores); nothing is served meanwhile anyway.
    """
    files = locate_model(config.embedding_model)
    if embedder is None:
        embedder = load_embedder(
            files,
            settings.embedding_backend,
            settings.embedding_cache_dir,
            device=config.embedding_device,
            batch_size=config.embedding_batch_size,
            threads=config.embedding_threads,
        )
    tokenizer = load_tokenizer(files)
    chunker = Chunker(tokenizer, config.chunk_tokens, config.chunk_overlap_tokens, embedder.max_tokens)
    keywords = Bm25Encoder(tokenizer, Bm25Params(config.bm25_k1, config.bm25_b, config.bm25_avg_chunk_tokens))
    spec = CollectionSpec(collection_name(embedder.model_slug), embedder.dimension)
    engine = open_engine(settings, state_dir, spec, config.embedded_engine, config.optimize_after_chunks)
    search = SearchSettings(config.hybrid_candidates, config.rrf_k, config.tenant_idf)
    index = ChunkIndex(engine, search)
    try:
        index.optimize()
    except BaseException:
        index.close()
        raise
    return Retriever(chunker, embedder, keywords, index, config.default_search_mode)
