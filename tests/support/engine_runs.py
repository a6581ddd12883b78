"""Drives an `InferenceEngine` in tests and benchmarks: one request to its final text."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from llmops_common.engines.base import (
    AdapterSpec,
    FinishReason,
    GenerationRequest,
    InferenceEngine,
    SamplingParams,
)


@dataclass(frozen=True)
class Completion:
    """What a request produced, deltas joined."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason | None
    deltas: int


def greedy(max_tokens: int, stop: tuple[str, ...] = ()) -> SamplingParams:
    """Greedy sampling, the setting whose output must match across engines and batch shapes."""
    return SamplingParams(max_tokens=max_tokens, temperature=0.0, stop=stop)


async def complete(
    engine: InferenceEngine, prompt: str, sampling: SamplingParams, adapter: AdapterSpec | None = None
) -> Completion:
    """Runs one request to its end."""
    request = GenerationRequest(uuid.uuid4().hex, prompt, sampling, adapter)
    text, deltas, last = "", 0, None
    async for delta in engine.generate(request):
        text, deltas, last = text + delta.text, deltas + 1, delta
    assert last is not None, "the engine ended a request without a final delta"
    return Completion(text, last.prompt_tokens, last.completion_tokens, last.finish_reason, deltas)
