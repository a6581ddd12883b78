"""The one interface the HTTP layer sees, whichever engine generates the tokens.

The server fans `n > 1` out into n requests, renders chat templates through `ChatTokenizer`, and stops
a generation by closing its iterator (`aclose()`), which must abort it in the engine and free its slot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length"]


class EngineError(Exception):
    """The engine could not serve a request (not the caller's fault)."""


class AdapterLoadError(EngineError):
    """An adapter could not be loaded; whatever was serving before keeps serving."""


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens; `temperature == 0` is greedy, and greedy output must match across engines."""

    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdapterSpec:
    """A LoRA adapter on the base model: `name` is unique per adapter version, `path` a PEFT folder."""

    name: str
    path: Path


@dataclass(frozen=True)
class GenerationRequest:
    """One sequence to generate from an already-templated prompt."""

    request_id: str
    prompt: str
    sampling: SamplingParams = field(default_factory=SamplingParams)
    adapter: AdapterSpec | None = None


@dataclass(frozen=True)
class GenerationDelta:
    """What one engine step added; the last delta has `finish_reason` set."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    """Tokens generated so far, this delta's included."""
    finish_reason: FinishReason | None = None


class ChatTokenizer(Protocol):
    """The base model's tokenizer, for chat templates and token counts."""

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        """The prompt text for `messages`, ending where the assistant's answer starts."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens that `text` takes as a prompt."""
        ...


@runtime_checkable
class InferenceEngine(Protocol):
    """A running engine over one base model with any number of LoRA adapters."""

    @property
    def name(self) -> str:
        """ "vllm" or "transformers"."""
        ...

    @property
    def base_model(self) -> str:
        """The base model's id or folder, as configured."""
        ...

    @property
    def tokenizer(self) -> ChatTokenizer: ...

    def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        """Streams the request's output; closing the iterator early aborts it in the engine."""
        ...

    async def load_adapter(self, adapter: AdapterSpec) -> None:
        """Loads an adapter so that requests naming it start at once; raises `AdapterLoadError`."""
        ...

    async def unload_adapter(self, name: str) -> None:
        """Frees an adapter no deployment uses any more; requests still running on it finish first."""
        ...

    async def close(self) -> None:
        """Stops the engine and frees its memory."""
        ...
