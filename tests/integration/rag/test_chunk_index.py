"""The chunk index on every engine: documents replaced and deleted, tenants kept apart, hybrid fusion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from tokenizers import Tokenizer

from llmops_common.embedding.sentence_embedder import Vectors
from llmops_common.storage.errors import StoreUnavailableError
from services.rag_retriever.chunking import Chunk, Chunker
from services.rag_retriever.engines.protocol import SearchMode
from services.rag_retriever.errors import RetrieverConfigError, TenantRequiredError
from services.rag_retriever.fusion import reciprocal_rank_fusion
from services.rag_retriever.index import ChunkHit, ChunkIndex, SearchSettings
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
        self, tenant: str, doc_id: str, version: int, texts: Sequence[str], owner: str = "", seed: int = 0
    ) -> int:
        chunks = [self.chunk(n, text) for n, text in enumerate(texts)]
        dense = vectors(len(texts), seed)
        sparse = [self.keywords.encode_document_tokens(chunk.token_ids) for chunk in chunks]
        return self.index.replace_document(tenant, doc_id, version, chunks, dense, sparse, {"owner": owner})

    def chunk(self, number: int, text: str) -> Chunk:
        [chunk] = Chunker(self.tokenizer).split(text)
        return Chunk(number, chunk.text, chunk.start, chunk.end, chunk.token_ids)

    def search(self, tenant: str | None, text: str, mode: SearchMode, top_k: int = 5, seed: int = 99) -> list[ChunkHit]:
        return self.index.search(tenant, vectors(1, seed)[0], self.keywords.encode_query(text), top_k, mode)


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
