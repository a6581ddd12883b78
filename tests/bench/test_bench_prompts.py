"""Runs the prompt registry benchmark under pytest: `pytest tests/bench -s -m bench` prints its table.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

import pytest

from tests.bench.bench_prompts import BenchConfig, render, run_benchmark
from tests.bench.report import bench_broker


@pytest.mark.timeout(600)
async def test_prompt_benchmark_prints_its_table() -> None:
    with bench_broker() as bootstrap:
        config = BenchConfig(bootstrap)
        result = await run_benchmark(config)

    print(render(result, config))
    assert len(result.create) == config.writes
