"""The chunk index on every engine: documents replaced and deleted, tenants kept apart, hybrid fusion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from tokenizers import Tokenizer

from llmops_common.embedding.sentence_embedder import Vectors
from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.storage.errors import StoreUnavailableError
from services.rag_retriever.chunking import Chunk, Chunker
from services.rag_retriever.config import EmbeddedEngine
from services.rag_retriever.engines.opening import open_engine
from services.rag_retriever.engines.protocol import CollectionCount, CollectionSpec, SearchMode, StoredChunk
from services.rag_retriever.errors import RetrieverConfigError, TenantRequiredError
from services.rag_retriever.fusion import reciprocal_rank_fusion
from services.rag_retriever.index import ChunkHit, ChunkIndex, SearchSettings, chunk_payload
from services.rag_retriever.sparse import Bm25Encoder

from .conftest import DIMENSION, IndexTarget

MODES: list[SearchMode] = ["dense", "sparse", "hybrid"]


class Writer:
    """Writes texts as documents of one chunk per text, with seeded vectors and real BM25 keywords."""

    def __init__(self, index: ChunkIndex, tokenizer: Tokenizer) -> None:
        self.index = index
        self.keywords = Bm25Encoder(tokenizer)
        self.tokenizer = tokenizer

    def write(
        self,
        tenant: str,
        doc_id: str,
        version: int,
        texts: Sequence[str],
        owner: str = "",
        seed: int = 0,
        collection: str = DEFAULT_COLLECTION,
    ) -> int:
        chunks = [self.chunk(n, text) for n, text in enumerate(texts)]
        dense = vectors(len(texts), seed)
        sparse = [self.keywords.encode_document_tokens(chunk.token_ids) for chunk in chunks]
        metadata = {"owner": owner}
        return self.index.replace_document(tenant, doc_id, version, chunks, dense, sparse, metadata, collection)

    def chunk(self, number: int, text: str) -> Chunk:
        [chunk] = Chunker(self.tokenizer).split(text)
        return Chunk(number, chunk.text, chunk.start, chunk.end, chunk.token_ids)

    def search(
        self,
        tenant: str | None,
        text: str,
        mode: SearchMode,
        top_k: int = 5,
        seed: int = 99,
        collection: str = DEFAULT_COLLECTION,
    ) -> list[ChunkHit]:
        query = self.keywords.encode_query(text)
        return self.index.search(tenant, vectors(1, seed)[0], query, top_k, mode, collection)


def vectors(count: int, seed: int) -> Vectors:
    rows = np.random.default_rng(seed).standard_normal((count, DIMENSION)).astype(np.float32)
    unit: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return unit


@pytest.fixture
def writer(chunk_index: ChunkIndex, tokenizer: Tokenizer) -> Writer:
    return Writer(chunk_index, tokenizer)


def test_a_new_version_replaces_every_old_chunk(writer: Writer, chunk_index: ChunkIndex) -> None:
    writer.write("acme", "guide", 1, ["old water one", "old water two", "old water three"])

    written = writer.write("acme", "guide", 2, ["new water one", "new water two"])

    assert written == 2
    stored = chunk_index.document_chunks("acme", "guide")
    assert [(hit.doc_version, hit.chunk_index, hit.text) for hit in stored] == [
        (2, 0, "new water one"),
        (2, 1, "new water two"),
    ]
    assert chunk_index.count("acme") == 2
    assert {hit.text for hit in writer.search("acme", "old water", "hybrid", top_k=10)} == {
        "new water one",
        "new water two",
    }


def test_a_version_without_chunks_leaves_the_document_empty(writer: Writer, chunk_index: ChunkIndex) -> None:
    writer.write("acme", "guide", 1, ["some water"])

    assert writer.write("acme", "guide", 2, []) == 0

    assert chunk_index.document_chunks("acme", "guide") == []


def test_delete_removes_only_that_document_of_that_tenant(writer: Writer, chunk_index: ChunkIndex) -> None:
    writer.write("acme", "guide", 1, ["guide water one", "guide water two"])
    writer.write("acme", "faq", 1, ["faq water"])
    writer.write("globex", "guide", 1, ["their guide water"])

    chunk_index.delete_document("acme", "guide")

    assert chunk_index.document_chunks("acme", "guide") == []
    assert [hit.text for hit in chunk_index.document_chunks("acme", "faq")] == ["faq water"]
    assert [hit.text for hit in chunk_index.document_chunks("globex", "guide")] == ["their guide water"]
    assert [hit.doc_id for hit in writer.search("acme", "guide water", "hybrid")] == ["faq"]
    chunk_index.delete_document("acme", "never-written")


@pytest.mark.parametrize("mode", MODES)
def test_a_tenant_never_sees_another_tenants_chunk_even_for_identical_text(
    writer: Writer, chunk_index: ChunkIndex, mode: SearchMode
) -> None:
    text = "The quarterly salary review is confidential"
    # Same doc id, same text, same vectors (same seed): only the tenant filter tells them apart.
    writer.write("acme", "memo", 1, [text], owner="acme", seed=7)
    writer.write("globex", "memo", 1, [text], owner="globex", seed=7)
    writer.write("globex", "memo-2", 1, [text + " indeed"], owner="globex", seed=8)

    hits = writer.search("acme", text, mode, top_k=10, seed=7)

    assert [(hit.doc_id, hit.metadata["owner"]) for hit in hits] == [("memo", "acme")]
    assert writer.search("initech", text, mode, top_k=10, seed=7) == []
    assert chunk_index.count("acme") == 1
    assert chunk_index.count("globex") == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_search_sees_only_its_collection_of_its_tenant(
    writer: Writer, chunk_index: ChunkIndex, mode: SearchMode
) -> None:
    text = "Holidays are booked in the staff portal"
    # The same text and vectors in two collections of one tenant and in another tenant's collection
    # of the same name: only the tenant and collection filters tell them apart.
    writer.write("acme", "kb1-doc", 1, [text], owner="acme kb1", seed=7, collection="kb1")
    writer.write("acme", "kb2-doc", 1, [text], owner="acme kb2", seed=7, collection="kb2")
    writer.write("globex", "kb1-doc", 1, [text], owner="globex kb1", seed=7, collection="kb1")

    def owners(tenant: str, collection: str) -> list[str]:
        hits = writer.search(tenant, text, mode, top_k=10, seed=7, collection=collection)
        return [str(hit.metadata["owner"]) for hit in hits]

    assert owners("acme", "kb1") == ["acme kb1"]
    assert owners("acme", "kb2") == ["acme kb2"]
    assert owners("globex", "kb1") == ["globex kb1"]
    assert owners("globex", "kb2") == []
    assert owners("acme", DEFAULT_COLLECTION) == []
    assert (chunk_index.count("acme", "kb1"), chunk_index.count("acme", "kb3"), chunk_index.count("acme")) == (1, 0, 2)


def test_collections_are_listed_per_tenant_with_their_documents_and_chunks(
    writer: Writer, chunk_index: ChunkIndex
) -> None:
    writer.write("acme", "guide", 1, ["guide one", "guide two", "guide three"], collection="handbook")
    writer.write("acme", "faq", 1, ["faq one"], collection="handbook")
    writer.write("acme", "notes", 1, ["notes one", "notes two"])
    writer.write("globex", "guide", 1, ["their guide"], collection="handbook")

    assert chunk_index.collections("acme") == [
        CollectionCount(DEFAULT_COLLECTION, documents=1, chunks=2),
        CollectionCount("handbook", documents=2, chunks=4),
    ]
    assert chunk_index.collections("globex") == [CollectionCount("handbook", documents=1, chunks=1)]
    assert chunk_index.collections("initech") == []
    with pytest.raises(TenantRequiredError):
        chunk_index.collections(None)

    chunk_index.delete_document("acme", "guide")
    chunk_index.delete_document("acme", "faq")

    assert chunk_index.collections("acme") == [CollectionCount(DEFAULT_COLLECTION, documents=1, chunks=2)]


def test_a_version_in_another_collection_moves_the_document(writer: Writer, chunk_index: ChunkIndex) -> None:
    writer.write("acme", "guide", 1, ["guide water one", "guide water two"], collection="drafts")

    writer.write("acme", "guide", 2, ["guide water"], collection="published")

    assert writer.search("acme", "guide water", "hybrid", collection="drafts") == []
    assert [hit.doc_version for hit in writer.search("acme", "guide water", "hybrid", collection="published")] == [2]
    assert chunk_index.collections("acme") == [CollectionCount("published", documents=1, chunks=1)]


def test_chunks_written_before_collections_existed_open_in_the_default_collection(
    index_target: IndexTarget, tokenizer: Tokenizer
) -> None:
    embedded: EmbeddedEngine = "qdrant-local" if index_target.engine == "qdrant-local" else "edge"
    spec = CollectionSpec(index_target.collection, DIMENSION)
    engine = open_engine(index_target.settings, index_target.state_dir, spec, embedded, optimize_after=1)
    writer = Writer(ChunkIndex(engine), tokenizer)
    chunk = writer.chunk(0, "legacy water")
    payload = {
        key: value
        for key, value in chunk_payload("acme", "legacy", 1, 0, chunk.text, {}).items()
        if key != "collection"
    }
    sparse = writer.keywords.encode_document_tokens(chunk.token_ids)
    engine.upsert([StoredChunk("00000000-0000-0000-0000-000000000001", vectors(1, 0)[0].tolist(), sparse, payload)])
    engine.close()

    reopened = Writer(index_target.open(), tokenizer)

    assert [hit.doc_id for hit in reopened.search("acme", "legacy water", "hybrid")] == ["legacy"]
    assert reopened.index.collections("acme") == [CollectionCount(DEFAULT_COLLECTION, documents=1, chunks=1)]


@pytest.mark.parametrize("tenant", [None, "", "  ", "acme/../globex"])
def test_every_read_and_write_without_a_valid_tenant_raises(
    writer: Writer, chunk_index: ChunkIndex, tenant: str | None
) -> None:
    writer.write("acme", "guide", 1, ["guide water"])

    for mode in MODES:
        with pytest.raises(TenantRequiredError):
            writer.search(tenant, "guide water", mode)
    with pytest.raises(TenantRequiredError):
        chunk_index.document_chunks(tenant, "guide")
    with pytest.raises(TenantRequiredError):
        chunk_index.count(tenant)
    with pytest.raises(TenantRequiredError):
        chunk_index.delete_document(tenant, "guide")
    with pytest.raises(TenantRequiredError):
        writer.write(tenant, "guide", 2, ["replaced"])  # type: ignore[arg-type]

    assert [hit.text for hit in chunk_index.document_chunks("acme", "guide")] == ["guide water"]


def test_hybrid_ranks_by_reciprocal_rank_fusion_of_dense_and_keyword(writer: Writer) -> None:
    # Distinct term counts and lengths, so that neither side has ties that either order could break.
    texts = [("water " * n + "stone " * (9 - n)).strip() for n in range(1, 9)] + [f"cloud house {n}" for n in range(8)]
    for n, text in enumerate(texts):
        writer.write("acme", f"doc-{n}", 1, [text], seed=n)

    def ranking(mode: SearchMode) -> list[tuple[str, float]]:
        return [(hit.doc_id, hit.score) for hit in writer.search("acme", "water", mode, top_k=50)]

    dense, keyword, hybrid = ranking("dense"), ranking("sparse"), ranking("hybrid")

    assert len(keyword) == 8
    expected = reciprocal_rank_fusion([[doc for doc, _ in dense], [doc for doc, _ in keyword]], k=60, limit=50)
    assert [doc for doc, _ in hybrid] == [doc for doc, _ in expected]
    assert [score for _, score in hybrid] == pytest.approx([score for _, score in expected], rel=1e-5)


@pytest.mark.parametrize("tenant_idf", [True, False])
def test_keyword_idf_comes_from_the_tenants_own_chunks(
    index_target: IndexTarget, tokenizer: Tokenizer, tenant_idf: bool
) -> None:
    writer = Writer(index_target.open(SearchSettings(tenant_idf=tenant_idf)), tokenizer)
    for n in range(4):
        writer.write("acme", f"doc-{n}", 1, ["water plant" if n == 0 else f"stone cloud {n}"])
    before = writer.search("acme", "water", "sparse")

    for n in range(20):
        writer.write("globex", f"doc-{n}", 1, [f"water everywhere {n}"])
    after = writer.search("acme", "water", "sparse")

    assert [hit.doc_id for hit in after] == [hit.doc_id for hit in before] == ["doc-0"]
    if tenant_idf:
        assert after[0].score == pytest.approx(before[0].score)
    else:
        assert after[0].score < before[0].score


def test_a_query_without_keywords_falls_back_to_dense(writer: Writer) -> None:
    writer.write("acme", "guide", 1, ["guide water"])

    assert [hit.doc_id for hit in writer.search("acme", "?!", "hybrid")] == ["guide"]
    assert writer.search("acme", "?!", "sparse") == []


def test_chunks_survive_closing_and_reopening(index_target: IndexTarget, tokenizer: Tokenizer) -> None:
    index = index_target.open()
    Writer(index, tokenizer).write("acme", "guide", 3, ["kept water one", "kept water two"])
    optimized = index.optimize()
    if index_target.engine != "edge":
        assert optimized is False  # a server indexes by itself, and local mode has no index
    index.close()

    reopened = index_target.open()

    assert [(hit.doc_version, hit.text) for hit in reopened.document_chunks("acme", "guide")] == [
        (3, "kept water one"),
        (3, "kept water two"),
    ]
    assert [hit.doc_id for hit in Writer(reopened, tokenizer).search("acme", "kept water", "hybrid")] == [
        "guide",
        "guide",
    ]


def test_a_collection_of_another_dimension_is_refused(index_target: IndexTarget) -> None:
    index_target.open().close()

    with pytest.raises(RetrieverConfigError):
        index_target.open(dimension=DIMENSION * 2)


def test_an_embedded_store_is_held_by_one_engine_at_a_time(index_target: IndexTarget) -> None:
    if index_target.engine == "qdrant-server":
        pytest.skip("a server takes any number of clients")
    index_target.open()

    with pytest.raises(StoreUnavailableError):
        index_target.open()
