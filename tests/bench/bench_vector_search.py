"""Benchmarks the retriever's stores and model, and prints a table: search latency at 100k chunks on
Qdrant Edge and on qdrant-client's local mode, Edge's optimizer runs, query embedding, the retrieval
round trip in process (query embedding included; through Kafka and the service it is
`tests.bench.bench_retrieval_round_trip`), and indexing
throughput with real embeddings.

Run it with `python -m tests.bench.bench_vector_search [--chunks N] [--local-chunks N] ...`.

Search is measured on synthetic chunks: random unit 384-d vectors and Zipf-distributed sparse
vectors over the tokenizer's 30k word pieces, written through the engine in batches of 1,000. Four
chunks in five belong to the tenant that is queried and the rest to four others, so every query
filters. Edge is measured with every point still unindexed (brute force), after one `optimize()`,
and after loading in steps with an `optimize()` after each, as the retriever does. Indexing
throughput runs the real pipeline (chunk, embed with MiniLM, BM25, replace per document) over the
shipped QA documents, repeated.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from llmops_common.embedding.backends import EmbeddingBackend, load_embedder, resolve_backend
from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, load_tokenizer, locate_model
from llmops_common.embedding.sentence_embedder import Embedder, Vectors
from llmops_common.settings import PlatformSettings
from services.rag_retriever.chunking import Chunker
from services.rag_retriever.config import EmbeddedEngine, RetrieverConfig
from services.rag_retriever.engines.opening import open_engine
from services.rag_retriever.engines.protocol import CollectionSpec, SearchMode, StoredChunk, VectorEngine
from services.rag_retriever.index import ChunkIndex, chunk_payload
from services.rag_retriever.retriever import DocumentText, Retriever, open_retriever
from services.rag_retriever.sparse import Bm25Encoder, SparseVector
from tests.bench.report import percentile, table

DIMENSION = 384
VOCABULARY = 30_522
WRITE_BATCH = 1_000
TENANT = "acme"
OTHER_TENANTS = ("t1", "t2", "t3", "t4")
MODES: tuple[SearchMode, ...] = ("dense", "hybrid")
QA_DIR = Path(__file__).resolve().parents[1] / "data" / "rag"


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures."""

    chunks: int = 100_000
    local_chunks: int = 100_000
    queries: int = 300
    local_queries: int = 20
    warmup: int = 10
    optimize_step: int = 10_000
    corpus_docs: int = 1_000
    embed_queries: int = 200
    top_k: int = 5
    model: str = DEFAULT_EMBEDDING_MODEL
    device: str | None = None
    backend: EmbeddingBackend | None = None
    """The backend of indexing and of the round trips; None: the platform's default. Query embedding is
    timed on both."""


@dataclass
class SearchFigures:
    """One store in one state: how fast chunks were written, and each search's seconds per mode."""

    store: str
    state: str
    chunks: int
    write_rate: float
    latencies: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class BenchResult:
    """Every figure of a run."""

    searches: list[SearchFigures] = field(default_factory=list)
    optimize_once: float = 0.0
    optimize_steps: list[float] = field(default_factory=list)
    query_embedding: dict[str, list[float]] = field(default_factory=dict)
    round_trips: list[float] = field(default_factory=list)
    indexing: dict[str, float] = field(default_factory=dict)
    embedding_rate: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Store:
    """A collection's engine, written in bulk, and the chunk index over it, which is searched."""

    engine: VectorEngine
    index: ChunkIndex


class SyntheticChunks:
    """Reproducible random chunks and queries of the shape the retriever stores."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def batch(self, first: int, count: int) -> list[StoredChunk]:
        """Chunks `first` to `first + count`; four in five belong to `TENANT`."""
        dense = self._unit_rows(count)
        return [
            StoredChunk(
                id=f"00000000-0000-4000-8000-{first + n:012d}",
                dense=dense[n].tolist(),
                sparse=self._sparse(int(self._rng.integers(40, 80)), weights=True),
                payload=chunk_payload(
                    tenant_of(first + n), f"doc-{(first + n) // 4}", 1, (first + n) % 4, "x" * 600, {}
                ),
            )
            for n in range(count)
        ]

    def query(self) -> tuple[list[float], SparseVector]:
        """A query: a random unit vector, and four to eight keyword terms."""
        return self._unit_rows(1)[0].tolist(), self._sparse(int(self._rng.integers(4, 9)), weights=False)

    def _unit_rows(self, count: int) -> Vectors:
        rows = self._rng.standard_normal((count, DIMENSION)).astype(np.float32)
        unit: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit

    def _sparse(self, terms: int, weights: bool) -> SparseVector:
        # Word frequencies follow Zipf's law: a few terms are in most chunks, most terms in few.
        indices = sorted({int(term) % VOCABULARY for term in self._rng.zipf(1.3, terms)})
        values = self._rng.uniform(0.3, 2.0, len(indices)) if weights else np.ones(len(indices))
        return SparseVector(tuple(indices), tuple(float(value) for value in values))


def tenant_of(n: int) -> str:
    """`TENANT` for four chunks in five, one of `OTHER_TENANTS` for the fifth."""
    return OTHER_TENANTS[n // 5 % len(OTHER_TENANTS)] if n % 5 == 4 else TENANT


@contextmanager
def opened_store(engine: EmbeddedEngine, folder: Path, optimize_after: int = 1) -> Iterator[Store]:
    """An empty 384-d collection on `engine` in `folder`, closed on exit."""
    settings = PlatformSettings(data_dir=folder, qdrant_url=None)
    opened = open_engine(settings, folder / "state", CollectionSpec("chunks__bench", DIMENSION), engine, optimize_after)
    store = Store(opened, ChunkIndex(opened))
    try:
        yield store
    finally:
        store.index.close()


def fill(store: Store, data: SyntheticChunks, first: int, count: int) -> float:
    """Writes `count` synthetic chunks straight through the engine, in bulk; returns chunks/s."""
    engine = store.engine
    started = time.perf_counter()
    for offset in range(first, first + count, WRITE_BATCH):
        engine.upsert(data.batch(offset, min(WRITE_BATCH, first + count - offset)))
    return count / (time.perf_counter() - started)


def time_searches(
    index: ChunkIndex, data: SyntheticChunks, config: BenchConfig, queries: int
) -> dict[str, list[float]]:
    """Seconds per search, for each mode, after a warm-up."""
    latencies: dict[str, list[float]] = {}
    for mode in MODES:
        trips = []
        for n in range(config.warmup + queries):
            dense, sparse = data.query()
            started = time.perf_counter()
            index.search(TENANT, dense, sparse, config.top_k, mode)
            trips.append(time.perf_counter() - started)
            if n < config.warmup:
                trips.clear()
        latencies[mode] = trips
    return latencies


def measure_edge(config: BenchConfig, result: BenchResult, work: Path) -> None:
    """Edge with every point unindexed, then after one optimize of them all."""
    data = SyntheticChunks(seed=1)
    with opened_store("edge", work / "edge") as store:
        rate = fill(store, data, 0, config.chunks)
        result.searches.append(SearchFigures("qdrant-edge", "unindexed", config.chunks, rate))
        result.searches[-1].latencies = time_searches(store.index, data, config, config.queries)
        started = time.perf_counter()
        store.index.optimize()
        result.optimize_once = time.perf_counter() - started
        result.searches.append(SearchFigures("qdrant-edge", "optimized once", config.chunks, rate))
        result.searches[-1].latencies = time_searches(store.index, data, config, config.queries)


def measure_edge_in_steps(config: BenchConfig, embedder: Embedder, result: BenchResult, work: Path) -> None:
    """Edge loaded `optimize_step` chunks at a time with an optimize after each, as the retriever keeps
    it; then the round trip through the real model on it."""
    data = SyntheticChunks(seed=2)
    with opened_store("edge", work / "edge-steps", optimize_after=config.optimize_step) as store:
        written, writing = 0, 0.0
        for first in range(0, config.chunks, config.optimize_step):
            count = min(config.optimize_step, config.chunks - first)
            writing += count / fill(store, data, first, count)
            written += count
            started = time.perf_counter()
            if store.index.optimize():
                result.optimize_steps.append(time.perf_counter() - started)
        figures = SearchFigures("qdrant-edge", f"optimized every {config.optimize_step:,}", written, written / writing)
        figures.latencies = time_searches(store.index, data, config, config.queries)
        result.searches.append(figures)
        tokenizer = load_tokenizer(locate_model(config.model))
        retriever = Retriever(Chunker(tokenizer), embedder, Bm25Encoder(tokenizer), store.index)
        result.round_trips = time_round_trips(retriever, config)


def measure_local(config: BenchConfig, result: BenchResult, work: Path) -> None:
    """qdrant-client's local mode: every search is brute force, with filters evaluated in Python."""
    data = SyntheticChunks(seed=3)
    with warnings.catch_warnings(), opened_store("qdrant-local", work / "local") as store:
        warnings.filterwarnings("ignore", message="Local mode is not recommended")
        rate = fill(store, data, 0, config.local_chunks)
        figures = SearchFigures("qdrant-client local", "brute force", config.local_chunks, rate)
        figures.latencies = time_searches(store.index, data, config, config.local_queries)
        result.searches.append(figures)


def qa_questions() -> list[str]:
    """The questions of the shipped QA set."""
    lines = (QA_DIR / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines]


def qa_corpus(count: int) -> list[DocumentText]:
    """`count` documents: the shipped QA documents over and over, each copy a document of its own."""
    lines = (QA_DIR / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    return [
        DocumentText(TENANT, f"{rows[n % len(rows)]['doc_id']}-{n}", 1, rows[n % len(rows)]["text"])
        for n in range(count)
    ]


def time_round_trips(retriever: Retriever, config: BenchConfig) -> list[float]:
    """Seconds per `Retriever.search` in hybrid mode: query embedding, BM25 encoding and the search."""
    questions, trips = qa_questions(), []
    for n in range(config.warmup + config.embed_queries):
        started = time.perf_counter()
        retriever.search(TENANT, questions[n % len(questions)], config.top_k, "hybrid")
        trips.append(time.perf_counter() - started)
    return trips[config.warmup :]


def load_embedders(config: BenchConfig) -> dict[str, Embedder]:
    """The model on each backend, the one the retriever uses first; ONNX keeps its export in the platform's
    cache (`LLMOPS_DATA_DIR`), so only the first run pays for it."""
    files, cache = locate_model(config.model), PlatformSettings().embedding_cache_dir
    chosen = resolve_backend(config.backend, config.device)
    backends: list[EmbeddingBackend] = [chosen, "torch" if chosen == "onnx" else "onnx"]
    return {backend: load_embedder(files, backend, cache, device=config.device) for backend in backends}


def measure_model(config: BenchConfig, embedders: dict[str, Embedder], result: BenchResult) -> None:
    """Query embedding latency on each backend, in alternating blocks so that both see the same load, and
    document embedding alone in chunks/s."""
    questions, block = qa_questions(), 25
    for embedder in embedders.values():
        for question in questions[: config.warmup]:
            embedder.embed_query(question)
    for first in range(0, config.embed_queries, block):
        for backend, embedder in embedders.items():
            for n in range(first, min(first + block, config.embed_queries)):
                started = time.perf_counter()
                embedder.embed_query(questions[n % len(questions)])
                result.query_embedding.setdefault(backend, []).append(time.perf_counter() - started)
    texts = [document.text for document in qa_corpus(config.corpus_docs)]
    for backend, embedder in embedders.items():
        started = time.perf_counter()
        embedder.embed_documents(texts)
        result.embedding_rate[backend] = len(texts) / (time.perf_counter() - started)


def measure_indexing(config: BenchConfig, engine: EmbeddedEngine, embedder: Embedder, work: Path) -> float:
    """Chunks/s of `Retriever.index_documents` (chunk, embed, BM25, replace) in batches of 64 documents."""
    settings = PlatformSettings(data_dir=work, qdrant_url=None)
    retriever_config = RetrieverConfig(embedding_model=config.model, embedded_engine=engine)
    retriever = open_retriever(retriever_config, settings, work / "state", embedder=embedder)
    documents, chunks = qa_corpus(config.corpus_docs), 0
    try:
        started = time.perf_counter()
        for first in range(0, len(documents), 64):
            chunks += sum(retriever.index_documents(documents[first : first + 64]))
        return chunks / (time.perf_counter() - started)
    finally:
        retriever.close()


def run_benchmark(config: BenchConfig, progress: Callable[[str], None] = print) -> BenchResult:
    """Runs every measurement and returns the raw figures."""
    result = BenchResult()
    embedders = load_embedders(config)
    embedder = next(iter(embedders.values()))
    with tempfile.TemporaryDirectory(prefix="llmops-bench-rag-") as tmp:
        work = Path(tmp)
        measure_model(config, embedders, result)
        for backend, latencies in result.query_embedding.items():
            progress(f"query embedding on {backend}: p50 {percentile(latencies, 50) * 1000:.2f} ms")
        for engine in ("edge", "qdrant-local"):
            result.indexing[engine] = measure_indexing(config, engine, embedder, work / f"indexing-{engine}")
            progress(f"indexing on {engine}: {result.indexing[engine]:,.0f} chunks/s")
        measure_edge(config, result, work)
        progress(f"edge at {config.chunks:,}: optimize once {result.optimize_once:.1f} s")
        measure_edge_in_steps(config, embedder, result, work)
        progress(f"edge in steps: {len(result.optimize_steps)} optimize runs")
        if config.local_chunks:
            measure_local(config, result, work)
            progress(f"local mode at {config.local_chunks:,} done")
    return result


def ms(values: Sequence[float], q: float) -> str:
    """The `q`-th percentile of `values` (seconds) in milliseconds."""
    return f"{percentile(values, q) * 1000:.2f} ms"


def render(result: BenchResult, config: BenchConfig) -> str:
    """The results as two plain-text tables."""
    rows = [("store", "state", "chunks", "write (chunks/s)", *(f"{m} {q}" for m in MODES for q in ("p50", "p99")))]
    for figures in result.searches:
        cells = [ms(figures.latencies[mode], q) for mode in MODES for q in (50, 99)]
        rows.append((figures.store, figures.state, f"{figures.chunks:,}", f"{figures.write_rate:,.0f}", *cells))
    header = (
        f"Search alone, top {config.top_k}, one tenant holding 4/5 of the chunks; {config.queries} queries per mode "
        f"({config.local_queries} on local mode) after {config.warmup} warm-up"
    )
    trip50, trip99 = (percentile(result.round_trips, q) * 1000 for q in (50, 99))
    steps = result.optimize_steps or [0.0]
    model_rows = [
        ("metric", "value", "goal", "result"),
        *(
            (f"query embedding on {backend} p50 / p99", f"{ms(latencies, 50)} / {ms(latencies, 99)}", "-", "-")
            for backend, latencies in result.query_embedding.items()
        ),
        (
            f"retrieval in process, Edge at {config.chunks:,}: embed + hybrid search, p50 / p99",
            f"{trip50:.2f} ms / {trip99:.2f} ms",
            "-",
            "-",
        ),
        (f"Edge optimize of {config.chunks:,} at once (process frozen)", f"{result.optimize_once:.1f} s", "-", "-"),
        (
            f"Edge optimize per {config.optimize_step:,} chunks: median / max (process frozen)",
            f"{np.median(steps):.1f} s / {max(steps):.1f} s",
            "-",
            "-",
        ),
        *(
            (f"document embedding alone on {backend}", f"{rate:,.0f} chunks/s", "-", "-")
            for backend, rate in result.embedding_rate.items()
        ),
        *(
            (f"indexing on {engine} (real embeddings)", f"{rate:,.0f} chunks/s", "-", "-")
            for engine, rate in result.indexing.items()
        ),
    ]
    model_header = (
        f"Model and pipeline: {config.model} on {config.device or 'the default device'}, indexing and round trips "
        f"on {resolve_backend(config.backend, config.device)}, "
        f"{config.corpus_docs:,} QA documents for indexing"
    )
    return table(header, rows) + "\n\n" + table(model_header, model_rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = BenchConfig()
    parser.add_argument("--chunks", type=int, default=defaults.chunks, help="chunks in the Edge collections")
    parser.add_argument(
        "--local-chunks", type=int, default=defaults.local_chunks, help="chunks in local mode (0: skip)"
    )
    parser.add_argument("--queries", type=int, default=defaults.queries, help="timed searches per mode on Edge")
    parser.add_argument("--local-queries", type=int, default=defaults.local_queries, help="on local mode")
    parser.add_argument("--optimize-step", type=int, default=defaults.optimize_step, help="chunks per Edge optimize")
    parser.add_argument("--corpus-docs", type=int, default=defaults.corpus_docs, help="documents for indexing")
    parser.add_argument("--model", default=defaults.model, help="embedding model: a packaged name or a folder")
    parser.add_argument("--device", default=None, help="torch device of the model (default: GPU if any)")
    parser.add_argument("--backend", choices=["onnx", "torch"], default=None, help="for indexing and round trips")
    args = parser.parse_args(argv)
    config = BenchConfig(
        chunks=args.chunks,
        local_chunks=args.local_chunks,
        queries=args.queries,
        local_queries=args.local_queries,
        optimize_step=args.optimize_step,
        corpus_docs=args.corpus_docs,
        model=args.model,
        device=args.device,
        backend=args.backend,
    )
    print(render(run_benchmark(config), config))


if __name__ == "__main__":
    main()
