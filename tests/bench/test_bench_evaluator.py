"""Runs the evaluator benchmark under pytest at a tiny size, so that it keeps working:
`pytest tests/bench -s -m bench` prints its table. The full size is `python -m tests.bench.bench_evaluator`.

It asserts nothing about timings; a noisy machine must not fail a build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.bench_evaluator import (
    BASELINE,
    CANDIDATE,
    NO_ENGINE,
    PERPLEXITY_BOTH,
    PERPLEXITY_CANDIDATE,
    WHOLE,
    BenchConfig,
    render,
    run_benchmark,
)


@pytest.mark.timeout(600)
async def test_evaluator_benchmark_prints_its_table(tiny_model: Path) -> None:
    config = BenchConfig(examples=4, max_tokens=8, rounds=1, model=str(tiny_model), engines=("transformers",))
    result = await run_benchmark(config)
    printed = render(result, config)
    print(printed)

    rows = [[cell.strip() for cell in line.split("|")] for line in printed.splitlines()[3:] if "|" in line]
    assert [row[:4] for row in rows] == [
        ["transformers", BASELINE, "4", "8"],
        ["transformers", CANDIDATE, "4", "8"],
        ["transformers", WHOLE, "4", "8"],
        [NO_ENGINE, PERPLEXITY_CANDIDATE, "4", "8"],
        [NO_ENGINE, PERPLEXITY_BOTH, "4", "8"],
    ]
    assert all(len(rounds) == 1 for rounds in result.seconds.values())
    # Both arms answered: each generated at least one token per answer, on average.
    assert all(tokens > 0 for tokens in result.answer_tokens.values())
