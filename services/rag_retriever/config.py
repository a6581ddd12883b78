"""The retriever's knobs, in one frozen dataclass with the documented defaults; the service's settings fill it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL

from .engines.protocol import SearchMode
from .errors import RetrieverConfigError
from .fusion import DEFAULT_RRF_K

EmbeddedEngine = Literal["edge", "qdrant-local"]
"""The store used when no Qdrant server is named: Qdrant Edge (fast, indexed), or qdrant-client's local
mode (brute force in Python, for small corpora only)."""


@dataclass(frozen=True, slots=True)
class RetrieverConfig:
    """How documents are cut, embedded, stored and searched."""

    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    """A packaged model's name (see `model_files.PACKAGED_MODELS`) or a sentence-transformers folder."""
    embedding_device: str | None = None
    """A torch device such as "cpu" or "cuda"; None picks a GPU when there is one (torch backend). Naming
    a GPU selects the torch backend unless `LLMOPS_EMBEDDING_BACKEND` says otherwise."""
    embedding_batch_size: int | None = None
    """Texts per forward pass; None picks 16 on a CPU and 128 on a GPU."""
    embedding_threads: int | None = None
    """The model's threads on a CPU (torch's are process-wide, ONNX Runtime's the session's); None takes up
    to 4, which keeps query latency low."""
    chunk_tokens: int = 200
    """Word pieces per chunk at most; with [CLS] and [SEP] it must fit the model's input (256)."""
    chunk_overlap_tokens: int = 40
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    bm25_avg_chunk_tokens: float = 120.0
    default_search_mode: SearchMode = "hybrid"
    """The mode of a request that names none."""
    hybrid_candidates: int = 50
    """How many chunks each side of a hybrid search brings to fusion (at least top_k)."""
    rrf_k: int = DEFAULT_RRF_K
    tenant_idf: bool = True
    """Compute keyword IDF over the tenant's own chunks. Needs a Qdrant server recent enough for
    `SearchParams.idf`; turn off for an older one."""
    embedded_engine: EmbeddedEngine = "edge"
    """Which embedded store to use when `LLMOPS_QDRANT_URL` is unset."""
    optimize_after_chunks: int = 10_000
    """Qdrant Edge: index written chunks once this many have piled up (each run blocks the process)."""

    def __post_init__(self) -> None:
        problems = [
            name
            for name, ok in (
                ("embedding_batch_size", self.embedding_batch_size is None or self.embedding_batch_size >= 1),
                ("embedding_threads", self.embedding_threads is None or self.embedding_threads >= 1),
                ("chunk_tokens", self.chunk_tokens >= 1),
                ("chunk_overlap_tokens", 0 <= self.chunk_overlap_tokens < self.chunk_tokens),
                ("hybrid_candidates", self.hybrid_candidates >= 1),
                ("rrf_k", self.rrf_k >= 1),
                ("optimize_after_chunks", self.optimize_after_chunks >= 1),
            )
            if not ok
        ]
        if problems:
            raise RetrieverConfigError(f"invalid retriever settings: {', '.join(problems)}")
