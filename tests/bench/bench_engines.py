"""Benchmarks batching in each engine: 16 concurrent requests against the same 16 one after another.

Run it with `python -m tests.bench.bench_engines` (what `make bench` calls). Both runs use the same
engine, model, prompts and greedy settings, side by side in one process, so the ratio is what counts on a
noisy machine. Output tokens per second = completion tokens of all requests / wall time. Goal: 4x.
The model is `--model`, else the stored default base model (`llmops model init`), else the small test
model (built in seconds and cached). vLLM runs where it imports.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops_common.engines.base import InferenceEngine
from llmops_common.engines.vllm_engine import vllm_available
from llmops_common.models.default_base import default_base_model_folder
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from tests.bench.report import Row, table, verdict
from tests.support.engine_runs import Completion, complete, greedy
from tests.support.tiny_models import tiny_model_folder

SPEEDUP_GOAL = 4.0
QUESTIONS = [
    f"{greeting}, how do I {task} in {product}?"
    for greeting, product in (("Hi", "Quill Docs"), ("Hello", "Relay Chat"), ("Hey there", "Atlas Maps"))
    for task in (
        "reset my password",
        "export my data",
        "add a team member",
        "cancel my subscription",
        "delete my account",
        "update my payment card",
    )
]


@dataclass(frozen=True)
class BenchConfig:
    """What to run: `requests` prompts of `max_tokens` each, sequential then concurrent."""

    requests: int = 16
    max_tokens: int = 64
    model: str | None = None
    engines: tuple[str, ...] = ("transformers", "vllm")


@dataclass(frozen=True)
class EngineResult:
    """One engine's two runs."""

    engine: str
    sequential_tps: float
    concurrent_tps: float
    tokens: int

    @property
    def speedup(self) -> float:
        """Concurrent over sequential throughput."""
        return self.concurrent_tps / self.sequential_tps


def bench_model(configured: str | None) -> str:
    """The model to benchmark: the one named, the stored default, or the small test model."""
    if configured:
        return configured
    settings = PlatformSettings()
    stored = default_base_model_folder(open_artifact_store(settings), settings.data_dir)
    return str(stored or tiny_model_folder(settings.data_dir / "bench-models"))


async def start(kind: str, model: str) -> InferenceEngine:
    """Starts one engine kind."""
    if kind == "vllm":
        from llmops_common.engines.vllm_engine import VllmEngine

        return await VllmEngine.start(model)
    from llmops_common.engines.transformers_engine import TransformersEngine

    return await TransformersEngine.start(model, max_batch_size=32)


async def timed(run: Callable[[], Awaitable[list[Completion]]]) -> float:
    """Output tokens per second of one run."""
    started = time.perf_counter()
    completions = await run()
    return sum(c.completion_tokens for c in completions) / (time.perf_counter() - started)


async def bench_engine(kind: str, model: str, config: BenchConfig) -> EngineResult:
    """Sequential and concurrent throughput of one engine, after a warm-up."""
    engine = await start(kind, model)
    try:
        prompts = [
            engine.tokenizer.render_chat([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}])
            for i in range(config.requests)
        ]
        sampling = greedy(config.max_tokens)
        await asyncio.gather(*(complete(engine, p, sampling) for p in prompts[:4]))  # warm-up

        async def sequential() -> list[Completion]:
            return [await complete(engine, p, sampling) for p in prompts]

        async def concurrent() -> list[Completion]:
            return list(await asyncio.gather(*(complete(engine, p, sampling) for p in prompts)))

        sequential_tps = await timed(sequential)
        concurrent_tps = await timed(concurrent)
        tokens = sum(c.completion_tokens for c in await concurrent())
    finally:
        await engine.close()
    return EngineResult(kind, sequential_tps, concurrent_tps, tokens)


async def run_benchmark(config: BenchConfig) -> tuple[str, list[EngineResult]]:
    """Every available engine in turn, one at a time."""
    model = bench_model(config.model)
    kinds = [k for k in config.engines if k != "vllm" or vllm_available()]
    return model, [await bench_engine(kind, model, config) for kind in kinds]


def render(model: str, results: Sequence[EngineResult], config: BenchConfig) -> str:
    """The printed table."""
    rows: list[Row] = [
        ("engine", "sequential tok/s", f"{config.requests} concurrent tok/s", "speedup", f"goal >= {SPEEDUP_GOAL:g}x")
    ]
    rows += [
        (
            r.engine,
            f"{r.sequential_tps:,.0f}",
            f"{r.concurrent_tps:,.0f}",
            f"{r.speedup:.1f}x",
            verdict(r.speedup >= SPEEDUP_GOAL),
        )
        for r in results
    ]
    skipped = "" if vllm_available() else "\n(vllm does not import here: its row is missing)"
    header = (
        f"Engine batching: {config.requests} requests x {config.max_tokens} greedy tokens, model {Path(model).name}"
    )
    return table(header, rows) + skipped


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    defaults = BenchConfig()
    parser.add_argument("--requests", type=int, default=defaults.requests, help="requests per run")
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="tokens per request")
    parser.add_argument("--model", default=None, help="a model folder or hub id (default: see above)")
    parser.add_argument("--engine", action="append", choices=["transformers", "vllm"], help="default: both")
    args = parser.parse_args(argv)
    config = BenchConfig(args.requests, args.max_tokens, args.model, tuple(args.engine or defaults.engines))
    model, results = asyncio.run(run_benchmark(config))
    print(render(model, results, config))


if __name__ == "__main__":  # vLLM spawns its engine core: the entry point must be guarded
    main()
