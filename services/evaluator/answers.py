"""Greedy answers from the serving engine: the same code, sampling and batching the model server uses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from llmops_common.engines.base import AdapterSpec, GenerationRequest, InferenceEngine, SamplingParams


async def greedy_answers(
    engine: InferenceEngine,
    prompts: Sequence[str],
    adapter: AdapterSpec | None,
    *,
    batch_size: int,
    max_tokens: int,
    request_prefix: str,
) -> list[str]:
    """Each templated prompt's greedy answer on `adapter` (None: the bare base model), with `batch_size`
    requests in flight at once, so both arms of an evaluation are batched alike."""
    slots = asyncio.Semaphore(batch_size)
    sampling = SamplingParams(max_tokens=max_tokens, temperature=0.0)

    async def answer(index: int, prompt: str) -> str:
        async with slots:
            request = GenerationRequest(f"{request_prefix}-{index}", prompt, sampling, adapter)
            return "".join([delta.text async for delta in engine.generate(request)])

    return list(await asyncio.gather(*(answer(index, prompt) for index, prompt in enumerate(prompts))))
