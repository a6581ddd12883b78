"""Runs the monitor ingest benchmark small under pytest: `pytest tests/bench -s -m bench` prints its table.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

import pytest

from tests.bench.bench_monitor_ingest import BenchConfig, render, run_benchmark
from tests.bench.report import bench_broker


@pytest.mark.timeout(300)
async def test_monitor_ingest_benchmark_prints_its_table() -> None:
    with bench_broker() as bootstrap:
        config = BenchConfig(bootstrap, events=5000, rounds=1)

        result = await run_benchmark(config)

    print(render(result, config))
    assert len(result.rates["sink into ClickHouse"]) == 1
