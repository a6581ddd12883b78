"""Runs a request's choices on the engine: every prompt times `n` choices, collected whole or merged as a stream.

Closing a stream (a client that went away) closes every engine iterator, which aborts the generation
in the engine and frees its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from llmops_common.engines.base import FinishReason, GenerationDelta, GenerationRequest, InferenceEngine


@dataclass
class ChoiceProgress:
    """What one choice has produced so far."""

    index: int
    prompt_index: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    text: list[str] = field(default_factory=list)
    finish_reason: FinishReason | None = None

    def take(self, delta: GenerationDelta) -> None:
        self.prompt_tokens = delta.prompt_tokens
        self.completion_tokens = delta.completion_tokens
        self.text.append(delta.text)
        if delta.finish_reason is not None:
            self.finish_reason = delta.finish_reason


@dataclass
class Progress:
    """Every choice of a request, and when its first token came."""

    choices: list[ChoiceProgress]
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None

    @property
    def prompt_tokens(self) -> int:
        # OpenAI counts the prompt once per distinct prompt, not once per choice of it.
        return sum({choice.prompt_index: choice.prompt_tokens for choice in self.choices}.values())

    @property
    def completion_tokens(self) -> int:
        return sum(choice.completion_tokens for choice in self.choices)

    def note(self, index: int, delta: GenerationDelta) -> None:
        """Takes one delta of choice `index`."""
        if self.first_token_at is None and delta.completion_tokens > 0:
            self.first_token_at = time.perf_counter()
        self.choices[index].take(delta)


async def generate_all(engine: InferenceEngine, requests: Sequence[GenerationRequest], progress: Progress) -> None:
    """Runs every request to its end, all at once (the engine batches them)."""

    async def one(index: int, request: GenerationRequest) -> None:
        stream = engine.generate(request)
        try:
            async for delta in stream:
                progress.note(index, delta)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async with asyncio.TaskGroup() as group:
        for index, request in enumerate(requests):
            group.create_task(one(index, request))


async def stream_all(
    engine: InferenceEngine, requests: Sequence[GenerationRequest], progress: Progress
) -> AsyncIterator[tuple[int, GenerationDelta]]:
    """Yields (choice index, delta) as the engine produces them; closing it aborts every choice."""
    if len(requests) == 1:
        stream = engine.generate(requests[0])
        try:
            async for delta in stream:
                progress.note(0, delta)
                yield 0, delta
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return
    merged: asyncio.Queue[tuple[int, GenerationDelta] | BaseException | None] = asyncio.Queue()

    async def pump(index: int, request: GenerationRequest) -> None:
        stream = engine.generate(request)
        try:
            async for delta in stream:
                merged.put_nowait((index, delta))
        except Exception as error:
            merged.put_nowait(error)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            merged.put_nowait(None)

    tasks = [asyncio.create_task(pump(index, request)) for index, request in enumerate(requests)]
    try:
        running = len(tasks)
        while running:
            item = await merged.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                progress.note(*item)
                yield item
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
