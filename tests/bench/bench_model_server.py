"""Benchmarks the model server's gateway: its overhead over the engine, and streaming time to first token.

Run it with `python -m tests.bench.bench_model_server`. The server runs as its own process
(`python -m services.model_server`) on the tiny test model with the transformers engine, with auth,
limits, telemetry (to a real broker) and a prompt replica on; the baseline is the same engine on the
same model called directly in this process, measured side by side in the same run:
- gateway overhead: the same short greedy request, sequentially, over HTTP and straight to the engine,
  interleaved; overhead = p50(HTTP) - p50(direct). Goal: <= 2 ms. The verdict's HTTP client is a minimal
  keep-alive one (`lean_http`), so that the figure is the gateway's and the loopback's; the same requests
  from httpx, whose own cost is about 1.3 ms per call here, are shown beside it.
- streaming time to first token, p50 and p99, at 1 and at 16 concurrent requests, over HTTP and direct.
The comparison with vLLM's own server is `tests.bench.bench_vllm_server`; batching is `tests.bench.bench_engines`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from llmops_common.engines.base import GenerationRequest, SamplingParams
from llmops_common.engines.transformers_engine import TransformersEngine
from llmops_common.settings import REPO_ROOT, PlatformSettings
from tests.bench.lean_http import LeanHttpClient
from tests.bench.report import bench_broker, percentile, table, verdict
from tests.bench.server_process import running_model_server
from tests.support.prompt_registry import publish_api_key
from tests.support.tiny_models import tiny_model_folder

OVERHEAD_GOAL_MS = 2.0
MODEL_NAME = "bench-tiny"
PROMPT = "How do I rotate an API key?"
MODEL_CACHE = REPO_ROOT / ".pytest_cache" / "d" / "llmops-models"


@dataclass(frozen=True)
class BenchConfig:
    """How much to measure."""

    bootstrap: str
    requests: int = 200
    max_tokens: int = 4
    stream_tokens: int = 16
    stream_rounds: int = 4
    concurrency: tuple[int, ...] = (1, 16)


@dataclass
class BenchResult:
    """Seconds per request, by path."""

    http: list[float] = field(default_factory=list)
    """Through the lean client."""
    httpx: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    ttft_http: dict[int, list[float]] = field(default_factory=dict)
    ttft_direct: dict[int, list[float]] = field(default_factory=dict)


async def _direct(engine: TransformersEngine, prompt: str, max_tokens: int) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    request = GenerationRequest("bench", prompt, SamplingParams(max_tokens=max_tokens, temperature=0))
    async for delta in engine.generate(request):
        if not first and delta.completion_tokens:
            first = time.perf_counter() - started
    return time.perf_counter() - started, first


def _chat_body(max_tokens: int) -> dict[str, object]:
    return {
        "model": MODEL_NAME,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
    }


async def _over_http(http: httpx.AsyncClient, max_tokens: int) -> float:
    started = time.perf_counter()
    response = await http.post("/v1/chat/completions", json=_chat_body(max_tokens))
    response.raise_for_status()
    return time.perf_counter() - started


async def _over_lean_http(lean: LeanHttpClient, max_tokens: int) -> float:
    started = time.perf_counter()
    await lean.post_json("/v1/chat/completions", _chat_body(max_tokens))
    return time.perf_counter() - started


async def _ttft_over_http(http: httpx.AsyncClient, max_tokens: int) -> float:
    body = {
        "model": MODEL_NAME,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
    }
    started, first = time.perf_counter(), 0.0
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not first and '"content":"' in line and '"content":""' not in line:
                first = time.perf_counter() - started
    return first


async def run_benchmark(config: BenchConfig) -> BenchResult:
    """Starts the server and a direct engine on the same model, and measures both."""
    model = tiny_model_folder(MODEL_CACHE)
    result = BenchResult()
    with tempfile.TemporaryDirectory(prefix="bench-model-server-") as scratch:
        settings = PlatformSettings(kafka_bootstrap=config.bootstrap, data_dir=Path(scratch) / "keys")
        key = await publish_api_key(settings, "bench")
        engine = await TransformersEngine.start(str(model), max_batch_size=32)
        chat_prompt = engine.tokenizer.render_chat([{"role": "user", "content": PROMPT}])
        try:
            with running_model_server(model, MODEL_NAME, config.bootstrap, Path(scratch) / "server") as server:
                headers = {"Authorization": f"Bearer {key}"}
                async with (
                    httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http,
                    LeanHttpClient(server.url, headers) as lean,
                ):
                    for _ in range(20):  # warm every path
                        await _over_http(http, config.max_tokens)
                        await _over_lean_http(lean, config.max_tokens)
                        await _direct(engine, chat_prompt, config.max_tokens)
                    for _ in range(config.requests):
                        result.http.append(await _over_lean_http(lean, config.max_tokens))
                        result.httpx.append(await _over_http(http, config.max_tokens))
                        result.direct.append((await _direct(engine, chat_prompt, config.max_tokens))[0])
                    for concurrency in config.concurrency:
                        for _ in range(config.stream_rounds):
                            http_ttft = await asyncio.gather(
                                *(_ttft_over_http(http, config.stream_tokens) for _ in range(concurrency))
                            )
                            result.ttft_http.setdefault(concurrency, []).extend(http_ttft)
                            direct = await asyncio.gather(
                                *(_direct(engine, chat_prompt, config.stream_tokens) for _ in range(concurrency))
                            )
                            result.ttft_direct.setdefault(concurrency, []).extend(first for _, first in direct)
        finally:
            await engine.close()
    return result


def render(result: BenchResult, config: BenchConfig) -> str:
    """The benchmark's table."""
    http_p50, direct_p50 = percentile(result.http, 50) * 1e3, percentile(result.direct, 50) * 1e3
    overhead = http_p50 - direct_p50
    rows = [
        ("figure", "direct engine", "HTTP gateway", "overhead", "goal", "verdict"),
        (
            "request p50 (ms)",
            f"{direct_p50:.2f}",
            f"{http_p50:.2f}",
            f"{overhead:+.2f} ms",
            f"<= {OVERHEAD_GOAL_MS:g} ms",
            verdict(overhead <= OVERHEAD_GOAL_MS),
        ),
        (
            "request p99 (ms)",
            f"{percentile(result.direct, 99) * 1e3:.2f}",
            f"{percentile(result.http, 99) * 1e3:.2f}",
            f"{(percentile(result.http, 99) - percentile(result.direct, 99)) * 1e3:+.2f} ms",
            "-",
            "-",
        ),
        (
            "request p50 from httpx (ms)",
            f"{direct_p50:.2f}",
            f"{percentile(result.httpx, 50) * 1e3:.2f}",
            f"{percentile(result.httpx, 50) * 1e3 - direct_p50:+.2f} ms",
            "-",
            "-",
        ),
    ]
    for concurrency in config.concurrency:
        direct, http = result.ttft_direct[concurrency], result.ttft_http[concurrency]
        rows.extend(
            (
                f"stream TTFT p{q} at {concurrency} concurrent (ms)",
                f"{percentile(direct, q) * 1e3:.2f}",
                f"{percentile(http, q) * 1e3:.2f}",
                f"{(percentile(http, q) - percentile(direct, q)) * 1e3:+.2f} ms",
                "-",
                "-",
            )
            for q in (50, 99)
        )
    header = (
        f"model server on the tiny model, transformers engine, 2 CPU cores shared (noisy): {config.requests} "
        f"sequential chat requests of {config.max_tokens} greedy tokens from a minimal keep-alive client and from "
        f"httpx, interleaved with the same request to the engine directly; TTFT from httpx over {config.stream_rounds} "
        f"rounds of {config.stream_tokens}-token streams"
    )
    return table(header, rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=BenchConfig.requests)
    parser.add_argument("--stream-rounds", type=int, default=BenchConfig.stream_rounds)
    args = parser.parse_args(argv)
    with bench_broker() as bootstrap:
        config = BenchConfig(bootstrap, requests=args.requests, stream_rounds=args.stream_rounds)
        result = asyncio.run(run_benchmark(config))
    print(render(result, config))


if __name__ == "__main__":
    main()
