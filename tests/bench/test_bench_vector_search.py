"""Runs the retriever's store and model benchmark under pytest, at a reduced size:
`pytest tests/bench -s -m bench` prints its tables. The full size is `python -m tests.bench.bench_vector_search`.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

import pytest

from tests.bench.bench_vector_search import BenchConfig, render, run_benchmark


@pytest.mark.timeout(600)
def test_vector_search_benchmark_prints_its_tables() -> None:
    config = BenchConfig(
        chunks=20_000, local_chunks=5_000, queries=50, local_queries=5, optimize_step=5_000, corpus_docs=100
    )

    result = run_benchmark(config)

    print(render(result, config))
    assert [figures.state for figures in result.searches] == [
        "unindexed",
        "optimized once",
        "optimized every 5,000",
        "brute force",
    ]
    assert len(result.round_trips) == config.embed_queries
    assert {backend: len(trips) for backend, trips in result.query_embedding.items()} == {
        "onnx": config.embed_queries,
        "torch": config.embed_queries,
    }
