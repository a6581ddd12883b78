"""The retriever end to end with the real MiniLM model on the embedded default store (Qdrant Edge)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder, Vectors
from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.settings import PlatformSettings
from services.rag_retriever.config import RetrieverConfig
from services.rag_retriever.engines.protocol import SearchMode
from services.rag_retriever.errors import CollectionNotFoundError, TenantRequiredError
from services.rag_retriever.retriever import DocumentText, Retriever, open_retriever

SALARY_MEMO = "Salary bands for 2025: engineers in level 3 earn between 70,000 and 85,000 EUR."


class CountingEmbedder:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.texts = 0
        self.model_slug, self.dimension, self.max_tokens = inner.model_slug, inner.dimension, inner.max_tokens

    def embed_query(self, text: str) -> Vectors:
        self.texts += 1
        return self.inner.embed_query(text)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed_documents(texts)


@pytest.fixture
def counting(embedder: SentenceTransformerEmbedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture
def retriever(counting: CountingEmbedder, tmp_path: Path) -> Iterator[Retriever]:
    settings = PlatformSettings(data_dir=tmp_path / "data", qdrant_url=None)
    opened = open_retriever(RetrieverConfig(), settings, tmp_path / "state", embedder=counting)
    yield opened
    opened.close()


def test_the_default_store_is_qdrant_edge_in_the_state_folder(retriever: Retriever, tmp_path: Path) -> None:
    assert retriever.index.collection == "chunks__all-minilm-l6-v2"
    assert (tmp_path / "state" / "qdrant-edge" / "chunks__all-minilm-l6-v2" / "edge_config.json").is_file()


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
def test_identical_text_in_two_tenants_stays_apart(retriever: Retriever, mode: SearchMode) -> None:
    retriever.index_documents(
        [
            DocumentText("acme", "memo", 1, SALARY_MEMO, {"owner": "acme"}),
            DocumentText("globex", "memo", 1, SALARY_MEMO, {"owner": "globex"}),
        ]
    )

    hits = retriever.search("acme", SALARY_MEMO, top_k=10, mode=mode)

    assert [(hit.doc_id, hit.text, hit.metadata) for hit in hits] == [("memo", SALARY_MEMO, {"owner": "acme"})]


def test_a_search_without_a_tenant_is_refused_before_the_query_is_embedded(
    retriever: Retriever, counting: CountingEmbedder
) -> None:
    retriever.index_document(DocumentText("acme", "memo", 1, SALARY_MEMO))
    embedded = counting.texts

    for tenant in (None, "", " "):
        with pytest.raises(TenantRequiredError):
            retriever.search(tenant, "salary bands")

    assert counting.texts == embedded


def test_a_batch_with_a_bad_tenant_writes_nothing(retriever: Retriever, counting: CountingEmbedder) -> None:
    with pytest.raises(TenantRequiredError):
        retriever.index_documents([DocumentText("acme", "memo", 1, SALARY_MEMO), DocumentText("", "memo", 1, "x")])

    assert counting.texts == 0
    assert retriever.index.count("acme") == 0


def test_an_erased_document_is_no_longer_found(retriever: Retriever) -> None:
    retriever.index_documents(
        [
            DocumentText("acme", "memo", 1, SALARY_MEMO),
            DocumentText("acme", "menu", 1, "The canteen serves vegetarian lasagne on Thursdays."),
        ]
    )

    retriever.erase_document("acme", "memo")

    assert [hit.doc_id for hit in retriever.search("acme", "How much do level 3 engineers earn?")] == ["menu"]


def test_a_search_of_a_collection_the_tenant_lacks_is_an_error_not_an_empty_context(retriever: Retriever) -> None:
    retriever.index_documents(
        [
            DocumentText("acme", "memo", 1, SALARY_MEMO, collection="hr"),
            DocumentText("globex", "menu", 1, "The canteen serves lasagne on Thursdays.", collection="canteen"),
        ]
    )

    assert [hit.doc_id for hit in retriever.search("acme", "salary bands", collection="hr")] == ["memo"]
    assert retriever.search("acme", "zebra", mode="sparse", collection="hr") == []  # known, nothing matched
    for tenant, collection in (("acme", "canteen"), ("acme", DEFAULT_COLLECTION), ("globex", "hr")):
        with pytest.raises(CollectionNotFoundError, match=collection):
            retriever.search(tenant, "salary bands", collection=collection)
    assert [(c.name, c.documents) for c in retriever.collections("acme")] == [("hr", 1)]


def test_a_long_document_is_chunked_with_overlap_and_found_by_its_middle(retriever: Retriever) -> None:
    filler = " ".join(f"Paragraph {n} describes routine office logistics and meeting rooms." for n in range(60))
    needle = "The emergency generator is tested on the first Monday of each quarter."
    text = f"{filler} {needle} {filler}"

    chunks = retriever.index_document(DocumentText("acme", "handbook", 1, text))

    assert chunks > 4
    [best] = retriever.search("acme", "When is the backup generator tested?", top_k=1)
    assert needle in best.text
    assert best.doc_id == "handbook"
