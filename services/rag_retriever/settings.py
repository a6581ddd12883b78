"""Settings of the RAG retriever, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL
from llmops_common.settings import ServiceSettings

from .config import RetrieverConfig


class Settings(ServiceSettings):
    """The RAG retriever's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "rag_retriever"

    rag_embedding_model: str = DEFAULT_EMBEDDING_MODEL
    """A packaged embedding model's name, or a sentence-transformers folder."""
    rag_chunk_tokens: int = Field(default=200, ge=16)
    """Tokens per chunk when documents are split."""
    rag_chunk_overlap_tokens: int = Field(default=40, ge=0)
    """Tokens each chunk shares with the one before."""
    rag_default_search_mode: Literal["dense", "sparse", "hybrid"] = "hybrid"
    """How a query is matched when it names no mode: dense vectors, sparse (BM25), or both fused."""
    rag_embedded_engine: Literal["edge", "qdrant-local"] = "edge"
    """The embedded store when `LLMOPS_QDRANT_URL` is unset: Qdrant Edge, or qdrant-client's local mode."""

    def retriever_config(self) -> RetrieverConfig:
        """The retriever's knobs from these settings."""
        return RetrieverConfig(
            embedding_model=self.rag_embedding_model,
            chunk_tokens=self.rag_chunk_tokens,
            chunk_overlap_tokens=self.rag_chunk_overlap_tokens,
            default_search_mode=self.rag_default_search_mode,
            embedded_engine=self.rag_embedded_engine,
        )
