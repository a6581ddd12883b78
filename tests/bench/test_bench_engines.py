"""Runs the engine batching benchmark under pytest: `pytest tests/bench -s -m bench` prints its table.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.bench_engines import BenchConfig, render, run_benchmark


@pytest.mark.timeout(600)
async def test_engine_benchmark_prints_its_table(tiny_model: Path) -> None:
    config = BenchConfig(requests=4, max_tokens=8, model=str(tiny_model))
    model, results = await run_benchmark(config)
    print(render(model, results, config))
    assert all(result.tokens > 0 for result in results)
