"""Runs the comparison with vLLM's own server under pytest at a tiny size, so that it keeps working:
`pytest tests/bench -s -m bench` prints its tables. The full size is `python -m tests.bench.bench_vllm_server`.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

import pytest

from llmops_common.engines.vllm_engine import vllm_available
from tests.bench.bench_vllm_server import SKIP_REASON, BenchConfig, render, run_benchmark, token_counts
from tests.bench.report import bench_broker

pytestmark = pytest.mark.skipif(not vllm_available(), reason=SKIP_REASON)


@pytest.mark.timeout(300)
async def test_vllm_server_benchmark_prints_its_tables() -> None:
    with bench_broker() as bootstrap:
        config = BenchConfig(
            bootstrap, concurrency=(1, 4), rounds=2, requests_per_stream=1, max_tokens=8, measure_rss=False
        )
        result = await run_benchmark(config)

    print(render(result, config))
    for runs in (result.ours, result.vllm):
        assert [len(runs.samples[c]) for c in config.concurrency] == [2 * c for c in config.concurrency]
        assert runs.peak_rss > 0
    # The same greedy requests: both servers see the same prompts and generate as many tokens.
    assert token_counts(result.ours) == token_counts(result.vllm)
    assert all(0 < completion <= config.max_tokens for _, completion in token_counts(result.ours))
