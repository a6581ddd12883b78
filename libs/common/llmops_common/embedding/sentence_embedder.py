"""Dense embeddings: the `Embedder` protocol and its sentence-transformers implementation, loaded offline."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from .model_files import ModelFiles

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vectors = npt.NDArray[np.float32]
"""Embeddings as rows of a float32 matrix, or one row for a single text."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors, whose dot product is their cosine similarity."""

    @property
    def model_slug(self) -> str:
        """The model's short name, which names its collection."""

    @property
    def dimension(self) -> int:
        """The length of every vector."""

    @property
    def max_tokens(self) -> int:
        """The most word pieces (with [CLS] and [SEP]) the model reads; it truncates the rest."""

    def embed_query(self, text: str) -> Vectors:
        """One vector, shaped (dimension,), for a search query."""

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One row per text, shaped (len(texts), dimension), computed in batches."""


CPU_BATCH_SIZE = 16
GPU_BATCH_SIZE = 128
"""Measured with MiniLM: on a CPU, batches past 16 texts run slower per text (2 cores: 65 texts/s at 16,
30 at 64), while a GPU needs large batches to be kept busy."""
MAX_CPU_THREADS = 4
"""torch's threads on a CPU. With one per core (16), a query's embedding gained nothing, and its
threads kept spinning after it and starved Qdrant Edge's search threads: embed + search measured
p50 16 ms, p99 80 ms on 16 cores, against 12.5 ms and 16 ms with 4 threads."""


class SentenceTransformerEmbedder:
    """A sentence-transformers model read from a local folder; loading takes seconds, so load it once."""

    def __init__(self, model: SentenceTransformer, slug: str, batch_size: int = CPU_BATCH_SIZE) -> None:
        self._model = model
        self._slug = slug
        self.batch_size = batch_size

    @classmethod
    def load(
        cls, files: ModelFiles, device: str | None = None, batch_size: int | None = None, threads: int | None = None
    ) -> SentenceTransformerEmbedder:
        """Loads the model in `files` on `device` (None: a GPU when there is one), never from the network.

        `batch_size` None picks one for the device the model landed on. On a CPU, torch's thread count,
        which is the whole process's, is set to `threads` (None: up to `MAX_CPU_THREADS`).
        """
        # A folder holds every file the model needs: a lookup on the Hugging Face Hub could only hang
        # or fail where there is no network, so it is forbidden before sentence-transformers loads.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(files.path), device=device, local_files_only=True)
        model.eval()
        on_cpu = model.device.type == "cpu"
        if on_cpu:
            torch.set_num_threads(threads or min(MAX_CPU_THREADS, os.cpu_count() or 1))
        if batch_size is None:
            batch_size = CPU_BATCH_SIZE if on_cpu else GPU_BATCH_SIZE
        return cls(model, files.slug, batch_size)

    @property
    def model_slug(self) -> str:
        """The model's short name, which names its collection."""
        return self._slug

    @property
    def dimension(self) -> int:
        """The length of every vector (384 for all-MiniLM-L6-v2)."""
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError("the model does not state its embedding dimension")
        return int(dimension)

    @property
    def max_tokens(self) -> int:
        """The most word pieces the model reads (256 for all-MiniLM-L6-v2)."""
        return int(self._model.get_max_seq_length() or 512)

    def embed_query(self, text: str) -> Vectors:
        """One unit vector for a search query."""
        vector = self._model.encode_query([text], batch_size=1, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vector, dtype=np.float32).reshape(-1)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text, `batch_size` texts at a time."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode_document(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
