"""Fills a retriever collection with many realistic chunks quickly: a few thousand real chunks are embedded
with the real model, and the rest are derived from them.

Embedding 100k chunks takes about half an hour on two cores, so only the seed chunks are embedded: the
shipped QA documents, then paragraphs of the Python standard library's docstrings (real English
technical text, the same for a given Python version), cut by the retriever's own chunker. Every derived
chunk takes a seed's text and BM25 vector, and a dense vector of `0.75 * seed + 0.25 * another seed +
noise`, normalised: it lies among real embeddings (not in a tight clump around one seed, nor uniformly on
the sphere as random vectors do), so the HNSW graph and the tenant filter face the structure they face
in production. Four chunks in five belong to the tenant that is queried.
"""

from __future__ import annotations

import importlib
import inspect
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmops_common.embedding.sentence_embedder import Embedder, Vectors
from services.rag_retriever.chunking import Chunker
from services.rag_retriever.engines.protocol import StoredChunk, VectorEngine
from services.rag_retriever.index import chunk_payload, chunk_point_id
from services.rag_retriever.sparse import Bm25Encoder, SparseVector
from tests.bench.bench_vector_search import QA_DIR, WRITE_BATCH, tenant_of

DOCSTRING_MODULES = (
    "argparse",
    "asyncio.base_events",
    "asyncio.streams",
    "collections",
    "concurrent.futures",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "email.message",
    "functools",
    "http.client",
    "http.server",
    "inspect",
    "json",
    "logging",
    "logging.handlers",
    "multiprocessing.pool",
    "os",
    "pathlib",
    "pickle",
    "re",
    "shutil",
    "socket",
    "sqlite3",
    "ssl",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "unittest.case",
    "urllib.parse",
    "urllib.request",
    "uuid",
    "zipfile",
)
MIN_PARAGRAPH_WORDS = 20
SEED_WEIGHT, NEIGHBOUR_WEIGHT, NOISE_NORM = 0.75, 0.25, 0.3


@dataclass(frozen=True)
class SeedChunks:
    """Real chunks: their text, embedding and BM25 vector."""

    texts: list[str]
    dense: Vectors
    sparse: list[SparseVector]
    embed_seconds: float


def real_texts() -> Iterator[str]:
    """The shipped QA documents, then docstring paragraphs of `DOCSTRING_MODULES`, each once."""
    for line in (QA_DIR / "documents.jsonl").read_text(encoding="utf-8").splitlines():
        yield json.loads(line)["text"]
    seen: set[str] = set()
    for name in DOCSTRING_MODULES:
        for member in _documented(importlib.import_module(name)):
            for paragraph in (inspect.getdoc(member) or "").split("\n\n"):
                text = " ".join(paragraph.split())
                if len(text.split()) >= MIN_PARAGRAPH_WORDS and text not in seen:
                    seen.add(text)
                    yield text


def _documented(module: object) -> Iterator[object]:
    """The module, its public members, and the public members of its classes."""
    yield module
    for key, value in vars(module).items():
        if not key.startswith("_"):
            yield value
            if inspect.isclass(value):
                yield from (attribute for name, attribute in vars(value).items() if not name.startswith("_"))


def embed_seeds(count: int, chunker: Chunker, embedder: Embedder, keywords: Bm25Encoder) -> SeedChunks:
    """The first `count` chunks of `real_texts()`, embedded by the real model."""
    chunks = []
    for text in real_texts():
        chunks += chunker.split(text)
        if len(chunks) >= count:
            break
    chunks = chunks[:count]
    started = time.perf_counter()
    dense = embedder.embed_documents([chunk.text for chunk in chunks])
    seconds = time.perf_counter() - started
    sparse = [keywords.encode_document_tokens(chunk.token_ids) for chunk in chunks]
    return SeedChunks([chunk.text for chunk in chunks], dense, sparse, seconds)


def derived_batch(seeds: SeedChunks, first: int, count: int, rng: np.random.Generator) -> list[StoredChunk]:
    """Chunks `first` to `first + count`: the seeds themselves first, then chunks derived from them."""
    size, dimension = seeds.dense.shape
    numbers = np.arange(first, first + count)
    own = numbers % size
    neighbour = rng.integers(0, size, count)
    noise = rng.standard_normal((count, dimension)).astype(np.float32) * (NOISE_NORM / np.sqrt(dimension))
    dense = SEED_WEIGHT * seeds.dense[own] + NEIGHBOUR_WEIGHT * seeds.dense[neighbour] + noise
    dense[numbers < size] = seeds.dense[own[numbers < size]]
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    batch = []
    for row, (n, seed) in enumerate(zip(numbers.tolist(), own.tolist(), strict=True)):
        tenant, doc_id = tenant_of(n), f"doc-{n // 4}"
        batch.append(
            StoredChunk(
                id=chunk_point_id(tenant, doc_id, n % 4),
                dense=dense[row].tolist(),
                sparse=seeds.sparse[seed],
                payload=chunk_payload(tenant, doc_id, 1, n % 4, seeds.texts[seed], {"seed": seed}),
            )
        )
    return batch


def fill_derived(engine: VectorEngine, seeds: SeedChunks, total: int, seed: int = 0) -> float:
    """Writes `total` chunks through the engine in batches; returns chunks/s."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for first in range(0, total, WRITE_BATCH):
        engine.upsert(derived_batch(seeds, first, min(WRITE_BATCH, total - first), rng))
    return total / (time.perf_counter() - started)


def state_size_mb(folder: Path) -> float:
    """The bytes under `folder`, in MB."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20
