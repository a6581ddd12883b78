"""Runs the model server benchmark under pytest at a reduced size: `pytest tests/bench -s -m bench` prints
its table. The full size is `python -m tests.bench.bench_model_server`.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

import pytest

from tests.bench.bench_model_server import BenchConfig, render, run_benchmark
from tests.bench.report import bench_broker


@pytest.mark.timeout(600)
async def test_model_server_benchmark_prints_its_table() -> None:
    with bench_broker() as bootstrap:
        config = BenchConfig(bootstrap, requests=20, stream_rounds=1)
        result = await run_benchmark(config)

    print(render(result, config))
    assert len(result.http) == len(result.httpx) == len(result.direct) == config.requests
    assert [len(result.ttft_http[c]) for c in config.concurrency] == list(config.concurrency)
