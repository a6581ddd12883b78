"""Runs the fine-tuning benchmark under pytest: `pytest tests/bench -s -m bench` prints its table.

It asserts nothing about timings; a noisy machine must not fail a build. One round of a few steps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.bench_training import VARIANTS, BenchConfig, render, run_benchmark


@pytest.mark.timeout(600)
def test_training_benchmark_prints_its_table(tiny_model: Path) -> None:
    config = BenchConfig(rounds=1, steps=4, batch_size=4, rows=16, checkpoint_every_steps=2, model=str(tiny_model))
    model, results = run_benchmark(config)
    print(render(model, results, config))
    assert all(len(results[variant].tokens_per_second) == 1 for variant in VARIANTS)
    assert all(results[variant].median_tps > 0 for variant in VARIANTS)
    # The same seed, rows and steps: our run and the bare Trainer compute the same losses.
    assert results["lora"].mean_loss == pytest.approx(results["bare"].mean_loss, rel=1e-5)
