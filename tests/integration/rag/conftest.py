"""The retriever's stores and model for the RAG tests: each embedded engine in the test's own folder, a
Qdrant server when `LLMOPS_TEST_QDRANT_URL` names one, and the real MiniLM model loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from tokenizers import Tokenizer

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, load_tokenizer, locate_model
from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder
from llmops_common.settings import PlatformSettings
from services.rag_retriever.config import EmbeddedEngine
from services.rag_retriever.engines.opening import open_engine
from services.rag_retriever.engines.protocol import CollectionSpec
from services.rag_retriever.index import ChunkIndex, SearchSettings

QDRANT_URL_VARIABLE = "LLMOPS_TEST_QDRANT_URL"
ENGINES = ["edge", "qdrant-local", "qdrant-server"]
DIMENSION = 8
"""Index tests write synthetic vectors: small ones keep them fast, and the filters are what is tested."""


@dataclass
class IndexTarget:
    """Where a test's chunk index lives; `open` may be called again to reopen it. Every index it
    opened is closed after the test, and a server collection is dropped."""

    engine: str
    settings: PlatformSettings
    state_dir: Path
    collection: str
    opened: list[ChunkIndex] = field(default_factory=list)

    def open(self, search: SearchSettings | None = None, dimension: int = DIMENSION) -> ChunkIndex:
        embedded: EmbeddedEngine = "qdrant-local" if self.engine == "qdrant-local" else "edge"
        spec = CollectionSpec(self.collection, dimension)
        index = ChunkIndex(open_engine(self.settings, self.state_dir, spec, embedded, optimize_after=1), search)
        self.opened.append(index)
        return index


@pytest.fixture(params=ENGINES)
def index_target(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Iterator[IndexTarget]:
    """The same tests on Qdrant Edge, on qdrant-client's local mode, and on a Qdrant server if named."""
    settings = PlatformSettings(data_dir=tmp_path / "data", qdrant_url=None)
    url = os.environ.get(QDRANT_URL_VARIABLE)
    if request.param == "qdrant-server":
        if not url:
            pytest.skip(f"no Qdrant server: set {QDRANT_URL_VARIABLE}=http://host:6333")
        settings = settings.model_copy(update={"qdrant_url": url})
    target = IndexTarget(request.param, settings, tmp_path / "state", f"chunks__test-{unique}")
    yield target
    for index in target.opened:
        index.close()
    if request.param == "qdrant-server" and url:
        client = QdrantClient(url=url)
        try:
            client.delete_collection(target.collection)
        finally:
            client.close()


@pytest.fixture
def chunk_index(index_target: IndexTarget) -> ChunkIndex:
    """A fresh chunk index of 8-dimension vectors on each engine."""
    return index_target.open()


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    """all-MiniLM-L6-v2's WordPiece tokenizer."""
    return load_tokenizer(locate_model(DEFAULT_EMBEDDING_MODEL))


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real all-MiniLM-L6-v2, loaded once for the session (it takes seconds), on the CPU."""
    return SentenceTransformerEmbedder.load(locate_model(DEFAULT_EMBEDDING_MODEL), device="cpu")
