"""Runs the retrieval round-trip benchmark under pytest, at a reduced size: `pytest tests/bench -s -m bench`
prints its table. The full size is `python -m tests.bench.bench_retrieval_round_trip`.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

import pytest

from tests.bench.bench_retrieval_round_trip import BenchConfig, render, run_benchmark


@pytest.mark.timeout(600)
def test_retrieval_round_trip_benchmark_prints_its_table() -> None:
    config = BenchConfig(chunks=3_000, seeds=150, queries=20, warmup=5)

    result = run_benchmark(config)

    print(render(result, config))
    assert len(result.in_process) == config.queries
    assert len(result.through_kafka) == config.queries
    assert (result.errors, result.empty) == (0, 0)
