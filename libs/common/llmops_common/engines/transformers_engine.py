"""The portable engine: transformers and PEFT, with dynamic batching of concurrent requests.

A scheduler task steps every active sequence together: one decode forward pass for the running batch,
plus one prefill pass for sequences that join, over a shared left-padded KV cache (`KVBatch`). Forward
passes run in a worker thread so the event loop keeps serving; adapters change only between steps. The
model runs on a GPU where one is present (`default_device`), else on the CPU.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import PreTrainedModel

from ..models.loading import load_causal_lm
from .adapter_usage import AdapterUsage
from .base import AdapterSpec, EngineError, GenerationDelta, GenerationRequest
from .errors import PromptTooLongError
from .hf_tokenizer import HFChatTokenizer
from .kv_batch import KVBatch, merge
from .peft_adapters import PeftAdapters
from .sampling import choose_token, new_generator
from .text_stream import TextStream

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Sequence:
    request: GenerationRequest
    prompt_ids: list[int]
    stream: TextStream
    generator: torch.Generator
    out: asyncio.Queue[GenerationDelta | BaseException] = field(default_factory=asyncio.Queue)
    next_token: int = 0
    position: int = 0
    aborted: bool = False

    @property
    def adapter(self) -> str | None:
        return self.request.adapter.name if self.request.adapter else None


def default_device() -> torch.device:
    """The first GPU where CUDA is available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(base_model: str, device: torch.device) -> PreTrainedModel:
    """The base model in float32 for inference on `device`, through the ordinary `from_pretrained` path."""
    model = load_causal_lm(base_model, dtype=torch.float32)
    model.to(device)  # type: ignore[arg-type]
    model.eval()  # type: ignore[no-untyped-call]
    return model


class TransformersEngine:
    """An `InferenceEngine` over transformers; `await TransformersEngine.start(model)` builds one."""

    def __init__(
        self, base_model: str, model: PreTrainedModel, tokenizer: HFChatTokenizer, max_batch_size: int
    ) -> None:
        self._base_model = base_model
        self._tokenizer = tokenizer
        self._device = model.device
        self._adapters = PeftAdapters(model, lambda: load_model(base_model, self._device))
        self._context = int(getattr(model.config, "max_position_embeddings", 2048))
        self._max_batch_size = max_batch_size
        self._waiting: deque[_Sequence] = deque()
        self._running: list[_Sequence] = []
        self._batch: KVBatch | None = None
        self._usage = AdapterUsage()
        self._model_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, base_model: str, *, max_batch_size: int = 32, device: str | torch.device | None = None
    ) -> TransformersEngine:
        """Loads the model and tokenizer and starts the scheduler; `device` defaults to `default_device()`."""
        target = torch.device(device) if device is not None else default_device()
        model = await asyncio.to_thread(load_model, base_model, target)
        tokenizer = await asyncio.to_thread(HFChatTokenizer.from_pretrained, base_model)
        engine = cls(base_model, model, tokenizer, max_batch_size)
        engine._task = asyncio.create_task(engine._schedule(), name="transformers-engine")
        return engine

    @property
    def name(self) -> str:
        """This engine's kind."""
        return "transformers"

    @property
    def base_model(self) -> str:
        """The base model as configured."""
        return self._base_model

    @property
    def device(self) -> torch.device:
        """Where the model's weights and the KV cache live."""
        return self._device

    @property
    def tokenizer(self) -> HFChatTokenizer:
        """The base model's tokenizer."""
        return self._tokenizer

    @property
    def active_requests(self) -> int:
        """Requests waiting or generating now."""
        return len(self._running) + len(self._waiting)

    @property
    def loaded_adapters(self) -> frozenset[str]:
        """Names of the adapters loaded now."""
        return frozenset(self._adapters.loaded)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        """Streams `request`'s output; closing the iterator aborts it and frees its batch row."""
        sequence = await self._admit(request)
        try:
            while True:
                item = await sequence.out.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish_reason is not None:
                    return
        finally:
            sequence.aborted = True
            self._wake.set()

    async def load_adapter(self, adapter: AdapterSpec) -> None:
        """Loads an adapter between two steps; running requests pause for that moment only."""
        async with self._model_lock:
            await asyncio.to_thread(self._adapters.load, adapter)
        self._usage.reopen(adapter.name)

    async def unload_adapter(self, name: str) -> None:
        """Refuses new requests on `name`, waits for its running ones to finish, then frees it."""
        if await self._usage.retire(name):
            async with self._model_lock:
                await asyncio.to_thread(self._adapters.unload, name)

    async def close(self) -> None:
        """Stops the scheduler; requests still waiting or running end with an `EngineError`."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task
        for sequence in [*self._running, *self._waiting]:
            sequence.out.put_nowait(EngineError("the engine stopped"))
        self._running, self._waiting, self._batch = [], deque(), None

    async def _admit(self, request: GenerationRequest) -> _Sequence:
        if self._closed:
            raise EngineError("the engine stopped")
        adapter = request.adapter
        if adapter is not None:
            self._usage.check_open(adapter.name)
            if adapter.name not in self._adapters.loaded:
                await self.load_adapter(adapter)
        prompt_ids = self._tokenizer.encode(request.prompt)
        if not prompt_ids or len(prompt_ids) >= self._context:
            raise PromptTooLongError(
                f"the prompt takes {len(prompt_ids)} tokens; the model's context holds {self._context}"
            )
        params = request.sampling
        stream = TextStream(
            decode=self._tokenizer.decode,
            stop=params.stop,
            max_tokens=params.max_tokens,
            eos_token_ids=self._tokenizer.eos_token_ids,
        )
        sequence = _Sequence(request, prompt_ids, stream, new_generator(params.seed))
        if adapter is not None:
            self._usage.acquire(adapter.name)
        self._waiting.append(sequence)
        self._wake.set()
        return sequence

    async def _schedule(self) -> None:
        while not self._closed:
            await self._drop_aborted()
            if not self._running and not self._waiting:
                self._wake.clear()
                await self._wake.wait()
                continue
            joining = [self._waiting.popleft() for _ in range(min(len(self._waiting), self._free_rows()))]
            try:
                async with self._model_lock:
                    tokens = await asyncio.to_thread(self._step, joining)
            except Exception as error:  # a failed step ends its requests, never the engine
                log.exception("engine step failed")
                await self._fail_all([*self._running, *joining], EngineError(f"generation failed: {error}"))
                continue
            await self._deliver(tokens)

    def _free_rows(self) -> int:
        return max(0, self._max_batch_size - len(self._running))

    def _step(self, joining: list[_Sequence]) -> list[int]:
        """One decode pass over the running batch and one prefill pass over `joining`; the next token of each
        sequence, in the order of `self._running` afterwards."""
        model = self._adapters.model
        tokens: list[int] = []
        with torch.inference_mode():
            if self._running and self._batch is not None:
                mask = self._batch.extended()
                out = model(
                    input_ids=torch.tensor([[s.next_token] for s in self._running], device=self._device),
                    attention_mask=mask,
                    position_ids=torch.tensor([[s.position] for s in self._running], device=self._device),
                    past_key_values=self._batch.cache,
                    use_cache=True,
                    **self._adapters.forward_kwargs([s.adapter for s in self._running]),
                )
                self._batch.mask = mask
                tokens += self._choose(self._running, out.logits[:, -1, :])
                for sequence in self._running:
                    sequence.position += 1
            if joining:
                tokens += self._prefill(model, joining)
        return tokens

    def _prefill(self, model: Any, joining: list[_Sequence]) -> list[int]:
        width = max(len(s.prompt_ids) for s in joining)
        ids = torch.zeros((len(joining), width), dtype=torch.long)
        mask = torch.zeros((len(joining), width), dtype=torch.long)
        for row, sequence in enumerate(joining):
            ids[row, width - len(sequence.prompt_ids) :] = torch.tensor(sequence.prompt_ids)
            mask[row, width - len(sequence.prompt_ids) :] = 1
            sequence.position = len(sequence.prompt_ids)
        ids, mask = ids.to(self._device), mask.to(self._device)
        out = model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
            use_cache=True,
            **self._adapters.forward_kwargs([s.adapter for s in joining]),
        )
        self._batch = merge(self._batch, KVBatch(out.past_key_values, mask).without_padding_values())
        self._running.extend(joining)
        return self._choose(joining, out.logits[:, -1, :])

    @staticmethod
    def _choose(sequences: list[_Sequence], logits: torch.Tensor) -> list[int]:
        # Each request's generator lives on the CPU, so a seeded request samples the same on any device.
        logits = logits.cpu()
        return [choose_token(logits[row], s.request.sampling, s.generator) for row, s in enumerate(sequences)]

    async def _deliver(self, tokens: list[int]) -> None:
        keep: list[int] = []
        for row, (sequence, token) in enumerate(zip(self._running, tokens, strict=True)):
            sequence.next_token = token
            text = sequence.stream.push(token)
            if sequence.stream.finish_reason is None and sequence.position + 1 >= self._context:
                sequence.stream.finish_reason = "length"
            finish = sequence.stream.finish_reason
            if text or finish is not None:
                sequence.out.put_nowait(
                    GenerationDelta(text, len(sequence.prompt_ids), len(sequence.stream.token_ids), finish)
                )
            if finish is None and not sequence.aborted:
                keep.append(row)
        await self._keep_rows(keep)

    async def _drop_aborted(self) -> None:
        for sequence in [s for s in self._waiting if s.aborted]:
            self._waiting.remove(sequence)
            await self._release(sequence)
        if any(s.aborted for s in self._running):
            await self._keep_rows([row for row, s in enumerate(self._running) if not s.aborted])

    async def _keep_rows(self, rows: list[int]) -> None:
        if len(rows) == len(self._running):
            return
        leaving = [s for row, s in enumerate(self._running) if row not in set(rows)]
        self._running = [self._running[row] for row in rows]
        self._batch = self._batch.select(rows) if rows and self._batch is not None else None
        for sequence in leaving:
            await self._release(sequence)

    async def _release(self, sequence: _Sequence) -> None:
        if sequence.adapter is not None:
            await self._usage.release(sequence.adapter)

    async def _fail_all(self, sequences: list[_Sequence], error: EngineError) -> None:
        for sequence in sequences:
            sequence.out.put_nowait(error)
            await self._release(sequence)
        self._running, self._batch = [], None
