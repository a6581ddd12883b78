"""Benchmarks the evaluator's scoring path: examples/s through each engine, and of its perplexity pass.

Run it with `python -m tests.bench.bench_evaluator` (what `make bench` calls). Every engine (transformers,
and vLLM where it imports) is started on the same model and kept running; each round then scores the same
held-out ticket examples (`tests.support.training_data`) as the evaluator scores one evaluation:
- each arm, as `EvaluatorService` runs it: the candidate's LoRA adapter is loaded (none for the baseline,
  the bare base model), `greedy_answers` generates with `--batch-size` requests in flight, the adapter is
  unloaded, and `example_scores` scores every answer against its reference in a worker thread;
- the perplexity pass, `arm_perplexities` (one copy of the model with PEFT, loaded from disk each call as
  the evaluator does): the candidate arm alone, and both arms in one call, as the evaluator calls it. It
  does not use the engine, so it has rows of its own;
- the whole evaluation of one engine: both arms plus the round's two-arm perplexity pass.
Examples/s = examples / wall time of that step. The engines take turns, the first alternating from round
to round, so both see the same machine load; the table shows the median and each round's figure. A
warm-up (a batch on each arm, a perplexity pass) comes first and is not counted. The model is `--model`,
else the stored default base model (`llmops model init`), else the small test model.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from llmops_common.engines.base import AdapterSpec, InferenceEngine
from llmops_common.engines.factory import start_engine
from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from llmops_common.engines.vllm_engine import vllm_available
from services.evaluator.answers import greedy_answers
from services.evaluator.arm_perplexity import arm_perplexities
from services.evaluator.examples import EvalExample, example_of
from services.evaluator.metrics import example_scores
from tests.bench.bench_engines import bench_model
from tests.bench.report import Row, table
from tests.support.tiny_models import make_lora_adapter
from tests.support.training_data import ticket_examples

BASELINE, CANDIDATE, WHOLE = "baseline arm: generation+metrics", "candidate arm: generation+metrics", "whole evaluation"
PERPLEXITY_CANDIDATE, PERPLEXITY_BOTH = "perplexity, candidate arm", "perplexity, both arms"
NO_ENGINE = "-"


@dataclass(frozen=True)
class BenchConfig:
    """What to score: `examples` held-out examples, `rounds` times, on each engine."""

    examples: int = 64
    batch_size: int = 8
    max_tokens: int = 32
    rounds: int = 3
    model: str | None = None
    engines: tuple[str, ...] = ("transformers", "vllm")


@dataclass
class BenchResult:
    """Seconds per round of each (engine, measurement), and the mean answer length of each engine's arms."""

    model: str
    engines: list[str]
    seconds: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    answer_tokens: dict[tuple[str, str], float] = field(default_factory=dict)

    def add(self, engine: str, measurement: str, seconds: float) -> None:
        """Records one round's time."""
        self.seconds.setdefault((engine, measurement), []).append(seconds)


@dataclass(frozen=True)
class Workload:
    """The examples rendered once, the candidate's adapter folder, and a tokenizer to measure answers with."""

    prompts: list[str]
    references: list[str]
    adapter_dir: Path
    tokenizer: HFChatTokenizer

    def head(self, count: int) -> Workload:
        """The first `count` examples only."""
        return Workload(self.prompts[:count], self.references[:count], self.adapter_dir, self.tokenizer)

    def mean_tokens(self, answers: Sequence[str]) -> float:
        """Generated tokens per answer (re-encoded, without special tokens)."""
        return statistics.fmean(len(self.tokenizer.hf.encode(a, add_special_tokens=False)) for a in answers)


def held_out(count: int) -> list[EvalExample]:
    """`count` ticket examples as the evaluator reads them from a dataset version's rows."""
    rows = [
        {"example_sha256": e.record_id, "prompt": e.prompt, "completion": e.completion} for e in ticket_examples(count)
    ]
    return [example for row in rows if (example := example_of(row, "held-out")) is not None]


async def timed_arm(
    engine: InferenceEngine, work: Workload, adapter_dir: Path | None, config: BenchConfig, prefix: str
) -> tuple[float, list[str]]:
    """Seconds for one arm as `EvaluatorService` runs it (adapter load, answers, unload, scores), and the answers."""
    started = time.perf_counter()
    adapter = AdapterSpec(f"eval:{adapter_dir.name}", adapter_dir) if adapter_dir is not None else None
    if adapter is not None:
        await engine.load_adapter(adapter)
    try:
        answers = await greedy_answers(
            engine,
            work.prompts,
            adapter,
            batch_size=config.batch_size,
            max_tokens=config.max_tokens,
            request_prefix=prefix,
        )
    finally:
        if adapter is not None:
            await engine.unload_adapter(adapter.name)
    pairs = list(zip(answers, work.references, strict=True))
    await asyncio.to_thread(lambda: [example_scores(answer, reference) for answer, reference in pairs])
    return time.perf_counter() - started, answers


async def timed_perplexity(model: str, arms: dict[str, Path | None], work: Workload, batch_size: int) -> float:
    """Seconds for one `arm_perplexities` call, run in a thread as the evaluator runs it."""
    started = time.perf_counter()
    await asyncio.to_thread(arm_perplexities, model, arms, work.prompts, work.references, batch_size=batch_size)
    return time.perf_counter() - started


async def warm_up(engines: Sequence[InferenceEngine], model: str, work: Workload, config: BenchConfig) -> None:
    """One batch on each arm of each engine and one perplexity pass, so no round pays for first use."""
    first = work.head(config.batch_size)
    for engine in engines:
        for adapter_dir in (None, work.adapter_dir):
            await timed_arm(engine, first, adapter_dir, config, f"warm-up:{engine.name}:{adapter_dir is None}")
    await timed_perplexity(model, {"baseline": None, "candidate": work.adapter_dir}, first, config.batch_size)


async def run_round(
    index: int, engines: Sequence[InferenceEngine], result: BenchResult, work: Workload, config: BenchConfig
) -> None:
    """The perplexity passes, then each engine's two arms, the first engine alternating with `index`."""
    candidate_only: dict[str, Path | None] = {"candidate": work.adapter_dir}
    both_arms: dict[str, Path | None] = {"baseline": None, "candidate": work.adapter_dir}
    alone = await timed_perplexity(result.model, candidate_only, work, config.batch_size)
    result.add(NO_ENGINE, PERPLEXITY_CANDIDATE, alone)
    perplexity = await timed_perplexity(result.model, both_arms, work, config.batch_size)
    result.add(NO_ENGINE, PERPLEXITY_BOTH, perplexity)
    for engine in engines if index % 2 == 0 else engines[::-1]:
        total = perplexity
        for measurement, adapter_dir in ((BASELINE, None), (CANDIDATE, work.adapter_dir)):
            seconds, answers = await timed_arm(engine, work, adapter_dir, config, f"bench-{index}:{measurement}")
            result.add(engine.name, measurement, seconds)
            result.answer_tokens[engine.name, measurement] = work.mean_tokens(answers)
            total += seconds
        result.add(engine.name, WHOLE, total)


async def run_benchmark(config: BenchConfig) -> BenchResult:
    """Starts every available engine, makes the candidate's adapter, warms up, then runs the rounds."""
    model = bench_model(config.model)
    kinds = [k for k in config.engines if k != "vllm" or vllm_available()]
    result = BenchResult(model, kinds)
    with tempfile.TemporaryDirectory(prefix="bench-evaluator-") as folder:
        adapter_dir = make_lora_adapter(Path(model), Path(folder) / "candidate", seed=1)
        async with AsyncExitStack() as stack:
            engines: list[InferenceEngine] = []
            for kind in kinds:
                engine = await start_engine("vllm" if kind == "vllm" else "transformers", model)
                stack.push_async_callback(engine.close)
                engines.append(engine)
            examples = held_out(config.examples)
            # Both engines hold the same Hugging Face tokenizer, so one rendering serves them all.
            tokenizer = HFChatTokenizer.from_pretrained(model)
            work = Workload(
                [tokenizer.render_chat(e.chat()) for e in examples],
                [e.reference for e in examples],
                adapter_dir,
                tokenizer,
            )
            await warm_up(engines, model, work, config)
            for index in range(config.rounds):
                await run_round(index, engines, result, work, config)
    return result


def render(result: BenchResult, config: BenchConfig) -> str:
    """The printed table, with what was measured, where and when."""
    rows: list[Row] = [
        ("engine", "measurement", "examples", "batch", "examples/s (median)", "per round", "tokens/answer")
    ]
    order = [(kind, m) for kind in result.engines for m in (BASELINE, CANDIDATE, WHOLE)]
    order += [(NO_ENGINE, PERPLEXITY_CANDIDATE), (NO_ENGINE, PERPLEXITY_BOTH)]
    for engine, measurement in order:
        rates = [config.examples / seconds for seconds in result.seconds[engine, measurement]]
        tokens = result.answer_tokens.get((engine, measurement))
        rows.append(
            (
                engine,
                measurement,
                str(config.examples),
                str(config.batch_size),
                f"{statistics.median(rates):,.1f}",
                " ".join(f"{rate:,.1f}" for rate in rates),
                "" if tokens is None else f"{tokens:.1f}",
            )
        )
    header = (
        f"Evaluator throughput: {config.examples} held-out ticket examples, {config.max_tokens} greedy tokens max, "
        f"batch {config.batch_size}, model {Path(result.model).name}, {config.rounds} rounds (engines alternate)"
    )
    notes = [
        "Measured: an arm = adapter load, greedy_answers, unload, example_scores (as EvaluatorService._arm);",
        "perplexity = arm_perplexities, the model loaded each call; whole evaluation = both arms + that round's",
        "two-arm perplexity pass. examples/s = examples / wall seconds of the step.",
        f"Machine: {len(os.sched_getaffinity(0))} cores ({platform.machine()}), {datetime.now(UTC):%Y-%m-%d}.",
    ]
    if "vllm" in config.engines and not vllm_available():
        notes.append("(vllm does not import here: its rows are missing)")
    return "\n".join([table(header, rows), *notes])


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    defaults = BenchConfig()
    parser.add_argument("--examples", type=int, default=defaults.examples, help="held-out examples per arm")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="requests in flight per arm")
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="greedy tokens per answer")
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="rounds (the median is shown)")
    parser.add_argument("--model", default=None, help="a model folder or hub id (default: see above)")
    parser.add_argument("--engine", action="append", choices=["transformers", "vllm"], help="default: both")
    args = parser.parse_args(argv)
    config = BenchConfig(
        args.examples, args.batch_size, args.max_tokens, args.rounds, args.model, tuple(args.engine or defaults.engines)
    )
    print(render(asyncio.run(run_benchmark(config)), config))


if __name__ == "__main__":  # vLLM spawns its engine core: the entry point must be guarded
    main()
