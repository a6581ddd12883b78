"""Runs the Kafka layer benchmark under pytest: `pytest tests/bench -s -m bench` prints its table.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bench.bench_bus import BenchConfig, render, run_benchmark
from tests.bench.report import bench_broker


@pytest.fixture(scope="module")
def bench_bootstrap() -> Iterator[str]:
    """The benchmark's own broker, or `LLMOPS_BENCH_KAFKA_BOOTSTRAP`."""
    with bench_broker() as bootstrap:
        yield bootstrap


@pytest.mark.timeout(600)
async def test_bus_benchmark_prints_its_table(bench_bootstrap: str) -> None:
    config = BenchConfig(bench_bootstrap)

    result = await run_benchmark(config)

    print(render(result, config))
    assert len(result.round_trips) == config.requests
