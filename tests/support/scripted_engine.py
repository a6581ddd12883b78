"""A test double of the `InferenceEngine` protocol for the model server's HTTP-layer tests.

It generates words deterministically (`w0 w1 w2 ...`, prefixed by the adapter's name), honours
`max_tokens` and stop sequences, can be slowed per token, and records which requests were aborted
and which adapters were loaded, so tests can see what the server asked of its engine. The
end-to-end tests use the real transformers engine instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from llmops_common.engines.base import AdapterLoadError, AdapterSpec, GenerationDelta, GenerationRequest


class WordTokenizer:
    """Chat template `role: content` lines; one token per whitespace-separated word."""

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@dataclass
class ScriptedEngine:
    """Words out, one per step, `token_seconds` apart."""

    base_model: str = "scripted-base"
    token_seconds: float = 0.0
    failing_adapters: set[str] = field(default_factory=set)
    name: str = "scripted"
    loaded: dict[str, AdapterSpec] = field(default_factory=dict)
    load_log: list[str] = field(default_factory=list)
    unload_log: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    tokenizer: WordTokenizer = field(default_factory=WordTokenizer)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        if request.adapter is not None and request.adapter.name not in self.loaded:
            raise RuntimeError(f"adapter {request.adapter.name} is not loaded")
        self.prompts.append(request.prompt)
        prefix = f"[{request.adapter.name.split('@')[0]}] " if request.adapter else ""
        prompt_tokens = self.tokenizer.count_tokens(request.prompt)
        text, done = "", False
        try:
            for index in range(request.sampling.max_tokens):
                if self.token_seconds:
                    await asyncio.sleep(self.token_seconds)
                else:
                    await asyncio.sleep(0)
                word = (
                    (prefix if index == 0 else "")
                    + f"w{index}"
                    + ("" if index + 1 == request.sampling.max_tokens else " ")
                )
                text += word
                stop = next((s for s in request.sampling.stop if s in text), None)
                if stop is not None:
                    cut = text.index(stop)
                    emitted = len(text) - len(word)
                    done = True
                    yield GenerationDelta(text[emitted:cut], prompt_tokens, index + 1, "stop")
                    return
                last = index + 1 == request.sampling.max_tokens
                done = last
                yield GenerationDelta(word, prompt_tokens, index + 1, "length" if last else None)
        finally:
            (self.finished if done else self.aborted).append(request.request_id)

    async def load_adapter(self, adapter: AdapterSpec) -> None:
        self.load_log.append(adapter.name)
        version = adapter.name.split("@")[0]
        if version in self.failing_adapters:
            raise AdapterLoadError(f"{adapter.name}: scripted failure")
        if not (adapter.path / "adapter_config.json").exists():
            raise AdapterLoadError(f"{adapter.path} holds no adapter_config.json")
        self.loaded[adapter.name] = adapter

    async def unload_adapter(self, name: str) -> None:
        self.unload_log.append(name)
        self.loaded.pop(name, None)

    async def close(self) -> None:
        self.loaded.clear()
