"""Runs the ingestion benchmark under pytest: `pytest tests/bench -s -m bench` prints its tables.

It asserts nothing about timings; a noisy machine must not fail a build. It uses 5,000 documents
rather than 100,000, with the index capped at 500 so that the cap fills early.
"""

from __future__ import annotations

import pytest

from tests.bench.bench_ingestion import BenchConfig, render, run_benchmark


@pytest.mark.timeout(600)
def test_ingestion_benchmark_prints_its_tables() -> None:
    config = BenchConfig(documents=5_000, cap=500)

    results = run_benchmark(config)

    print(render(results, config))
    assert [result.mode for result in results] == ["baseline", "pipeline", "capped", "persisted"]
    assert results[3].fates == results[2].fates  # persisting the index changes no decision
    assert results[3].reload_seconds is not None
    assert all(len(result.rss_mb) == 5 for result in results)
    planted = results[1].fates
    assert sum(sum(fates.values()) for fates in planted.values()) == config.documents
    assert planted["exact"] == {"exact": sum(planted["exact"].values())}
    assert planted["short"] == {"rejected": sum(planted["short"].values())}
