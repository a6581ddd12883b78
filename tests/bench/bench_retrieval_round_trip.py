"""Benchmarks retrieval through Kafka at 100k chunks: a requester asks the running retriever service and
awaits its reply, query embedding included, and prints a table with the goal.

Run it with `python -m tests.bench.bench_retrieval_round_trip [--chunks N] [--seeds S] [--queries Q]`.
It starts Tansu on a free port (or uses `LLMOPS_BENCH_KAFKA_BOOTSTRAP`).

1. The service's own Qdrant Edge collection is filled in bulk (see `tests.bench.rag_bulk_fill`: a few
   thousand real chunks embedded by MiniLM, the rest derived from them) and optimized once, as the
   retriever keeps it.
2. Baseline: `Retriever.search` in this process on that store, hybrid mode: the query embedded by the
   real model, its BM25 vector, dense and keyword search under the tenant filter, fused by rank.
3. The retriever service is started as its own process (`python -m services.rag_retriever`) on that
   folder; this process sends `llmops.retrieval.requested.v1` requests one after another through the
   platform's `Requester`, and times each until its `llmops.retrieval.answered.v1` reply is back. The
   questions are the shipped QA questions, cycled; the tenant holds 4/5 of the chunks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from llmops_common.embedding.backends import load_embedder
from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, load_tokenizer, locate_model
from llmops_common.embedding.sentence_embedder import Embedder
from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.request_reply import Requester
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.topics import RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS
from services.rag_retriever.chunking import Chunker
from services.rag_retriever.engines.opening import open_engine
from services.rag_retriever.engines.protocol import CollectionSpec
from services.rag_retriever.index import collection_name
from services.rag_retriever.retriever import open_retriever
from services.rag_retriever.settings import Settings
from services.rag_retriever.sparse import Bm25Encoder
from tests.bench.bench_vector_search import TENANT, qa_questions
from tests.bench.rag_bulk_fill import embed_seeds, fill_derived, state_size_mb
from tests.bench.report import Row, bench_broker, percentile, quiet_access_log, table, verdict
from tests.bench.server_process import running_process

P50_GOAL_MS, P99_GOAL_MS = 20.0, 50.0


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures."""

    chunks: int = 100_000
    seeds: int = 1_200
    queries: int = 300
    warmup: int = 20
    top_k: int = 5


@dataclass
class BenchResult:
    """The raw figures of a run; latencies in seconds."""

    seed_rate: float = 0.0
    fill_rate: float = 0.0
    optimize_seconds: float = 0.0
    store_mb: float = 0.0
    in_process: list[float] = field(default_factory=list)
    through_kafka: list[float] = field(default_factory=list)
    errors: int = 0
    empty: int = 0


def fill_store(config: BenchConfig, settings: Settings, embedder: Embedder, result: BenchResult) -> None:
    """The service's collection, in its state folder, filled in bulk and optimized."""
    tokenizer = load_tokenizer(locate_model(DEFAULT_EMBEDDING_MODEL))
    seeds = embed_seeds(config.seeds, Chunker(tokenizer), embedder, Bm25Encoder(tokenizer))
    result.seed_rate = len(seeds.texts) / seeds.embed_seconds
    spec = CollectionSpec(collection_name(embedder.model_slug), embedder.dimension)
    engine = open_engine(settings, settings.state_dir, spec, "edge", optimize_after=1)
    try:
        result.fill_rate = fill_derived(engine, seeds, config.chunks)
        started = time.perf_counter()
        engine.optimize()
        result.optimize_seconds = time.perf_counter() - started
    finally:
        engine.close()
    result.store_mb = state_size_mb(settings.state_dir)


def time_in_process(config: BenchConfig, settings: Settings, embedder: Embedder) -> list[float]:
    """Seconds per `Retriever.search` (hybrid) on the filled store, in this process: the baseline."""
    retriever = open_retriever(settings.retriever_config(), settings, settings.state_dir, embedder=embedder)
    questions, trips = qa_questions(), []
    try:
        for n in range(config.warmup + config.queries):
            started = time.perf_counter()
            retriever.search(TENANT, questions[n % len(questions)], config.top_k, "hybrid")
            trips.append(time.perf_counter() - started)
    finally:
        retriever.close()
    return trips[config.warmup :]


@contextmanager
def running_service(settings: Settings) -> Iterator[None]:
    """`python -m services.rag_retriever` on `settings`' broker and data folder, ready; stopped on exit."""
    environment = {
        **os.environ,
        "LLMOPS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "LLMOPS_DATA_DIR": str(settings.data_dir),
        "LLMOPS_RAG_RETRIEVER_PORT": str(settings.rag_retriever_port),
        "LLMOPS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "services.rag_retriever"]
    with running_process("the retriever", command, environment, settings.rag_retriever_port, "/readyz") as server:
        server.wait_ready()
        yield


async def time_through_kafka(config: BenchConfig, settings: PlatformSettings, work: Path, result: BenchResult) -> None:
    """Sends the requests one after another and times each until its reply is back."""
    bus = Bus.create(settings, source="bench", state_dir=work / "requester", registry=CollectorRegistry())
    requester = Requester(bus.broker, bus.publisher, RETRIEVAL_REPLIES.name, RetrievalAnsweredV1)
    await bus.start()
    try:
        await requester.wait_ready()
        questions = qa_questions()
        for n in range(config.warmup + config.queries):
            request = RetrievalRequestedV1(
                request_id=f"q-{n}", tenant=TENANT, collection="default", query=questions[n % len(questions)]
            )
            started = time.perf_counter()
            # The first requests also wait for the service's consumer to join its group.
            answer = await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=60 if n == 0 else 10)
            elapsed = time.perf_counter() - started
            if n >= config.warmup:
                result.through_kafka.append(elapsed)
                result.errors += answer.error is not None
                result.empty += not answer.chunks
    finally:
        await bus.close()


def run_benchmark(config: BenchConfig, progress: Callable[[str], None] = print) -> BenchResult:
    """Fills the store, times the baseline, then the round trip through the running service."""
    result = BenchResult()
    # The model on the backend the service picks by default, so both sides embed the same way.
    embedder = load_embedder(locate_model(DEFAULT_EMBEDDING_MODEL), None, PlatformSettings().embedding_cache_dir)
    with (
        bench_broker() as bootstrap,
        quiet_access_log(),
        tempfile.TemporaryDirectory(prefix="llmops-bench-rt-") as tmp,
    ):
        work = Path(tmp)
        settings = Settings(
            kafka_bootstrap=bootstrap, data_dir=work / "data", qdrant_url=None, rag_retriever_port=free_port()
        )
        fill_store(config, settings, embedder, result)
        progress(
            f"filled {config.chunks:,} chunks ({config.seeds:,} embedded), optimize {result.optimize_seconds:.1f} s"
        )
        result.in_process = time_in_process(config, settings, embedder)
        progress(f"in-process p50 {percentile(result.in_process, 50) * 1000:.2f} ms")
        with running_service(settings):
            asyncio.run(time_through_kafka(config, settings, work, result))
        progress(f"through Kafka p50 {percentile(result.through_kafka, 50) * 1000:.2f} ms")
    return result


def render(result: BenchResult, config: BenchConfig) -> str:
    """The results as a plain-text table with the goal."""
    base50, base99 = (percentile(result.in_process, q) * 1000 for q in (50, 99))
    kafka50, kafka99 = (percentile(result.through_kafka, q) * 1000 for q in (50, 99))
    rows: list[Row] = [
        ("metric", "in process (baseline)", "through Kafka", "ratio", "goal", "result"),
        (
            "round trip p50",
            f"{base50:.2f} ms",
            f"{kafka50:.2f} ms",
            f"{kafka50 / base50:.1f}x",
            "< 20 ms",
            verdict(kafka50 < P50_GOAL_MS),
        ),
        (
            "round trip p99",
            f"{base99:.2f} ms",
            f"{kafka99:.2f} ms",
            f"{kafka99 / base99:.1f}x",
            "< 50 ms",
            verdict(kafka99 < P99_GOAL_MS),
        ),
        ("p50 difference (Kafka - in process)", "-", f"{kafka50 - base50:.2f} ms", "-", "-", "-"),
        (
            "error replies / empty answers",
            "-",
            f"{result.errors} / {result.empty}",
            "-",
            "0 / 0",
            verdict(result.errors == 0 and result.empty == 0),
        ),
        ("seed chunks embedded", f"{result.seed_rate:,.0f} chunks/s", "-", "-", "-", "-"),
        ("bulk write (derived vectors)", f"{result.fill_rate:,.0f} chunks/s", "-", "-", "-", "-"),
        ("Edge optimize, all at once", f"{result.optimize_seconds:.1f} s", "-", "-", "-", "-"),
        ("store on disk", f"{result.store_mb:,.0f} MB", "-", "-", "-", "-"),
    ]
    header = (
        f"Retrieval round trip at {config.chunks:,} chunks on Qdrant Edge ({config.seeds:,} real chunks embedded, "
        f"the rest derived), hybrid, top {config.top_k}, query embedding included; {config.queries} sequential "
        f"requests after {config.warmup} warm-up; {os.cpu_count()} cores"
    )
    return table(header, rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = BenchConfig()
    parser.add_argument("--chunks", type=int, default=defaults.chunks, help="chunks in the collection")
    parser.add_argument("--seeds", type=int, default=defaults.seeds, help="real chunks embedded by the model")
    parser.add_argument("--queries", type=int, default=defaults.queries, help="timed requests")
    args = parser.parse_args(argv)
    config = BenchConfig(chunks=args.chunks, seeds=args.seeds, queries=args.queries)
    print(render(run_benchmark(config), config))


if __name__ == "__main__":
    main()
