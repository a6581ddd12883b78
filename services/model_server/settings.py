"""Settings of the model server, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from llmops_common.engines.factory import EngineKind
from llmops_common.settings import ServiceSettings

TextCapture = Literal["none", "redacted", "full"]


class ModelPrice(BaseModel):
    """What a model costs, in USD per 1,000 tokens."""

    input_per_1k: float = Field(default=0.0, ge=0)
    output_per_1k: float = Field(default=0.0, ge=0)


class Settings(ServiceSettings):
    """The model server's settings: the platform's shared ones and its own limits, capture and prices."""

    service_name: ClassVar[str] = "model_server"

    base_model_name: str | None = None
    """The name `/v1/models` gives the base model; lifecycle events for another base model are ignored.
    Unset, it is the engine's `base_model`."""

    engine: EngineKind = "auto"
    """`vllm`, `transformers`, or `auto`: vLLM where it imports, else transformers."""

    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    """The largest request body; a larger one is a 413."""
    max_tokens_cap: int = Field(default=4096, ge=1)
    """The most tokens one choice may ask for; more is a 400."""
    default_max_tokens: int = Field(default=256, ge=1)
    """Tokens per choice when a request names no `max_tokens`."""
    max_n: int = Field(default=8, ge=1)
    """The most choices (`n`) one request may ask for."""
    max_prompts_per_request: int = Field(default=32, ge=1)
    """The most prompts one `/v1/completions` request may list; more is a 422."""
    max_running_requests: int = Field(default=64, ge=1)
    """Sequences generating at once, the engine batching them: a request takes one slot per prompt and
    choice (prompts times `n`). A request that needs more slots than this is a 400."""
    max_queued_requests: int = Field(default=256, ge=0)
    """Slots (prompts times `n`) that requests may wait for; a request that would queue more is refused with
    503 rather than queued."""

    replica_poll_wait_ms: int = Field(default=200, ge=1)
    """How often the key, prompt and deployment replicas ask the broker for changes when it is quiet.
    The server needs no read-your-writes: a new key or deployment counts within this, and the CPU the
    polls would take stays with the engine."""

    retriever_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long a RAG request waits for the retriever's chunks before it is a 504."""
    rag_context_max_chars: int = Field(default=8000, ge=0)
    """The most characters of retrieved chunks put into a prompt."""

    text_capture: TextCapture = "redacted"
    """How much prompt and completion text telemetry carries: none, PII-redacted, or full."""
    log_prompts: bool = False
    """Whether prompts may appear in logs; off, they never do."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """USD per 1k input and output tokens by model name (deployed or base), e.g.
    `LLMOPS_PRICES='{"support-assistant": {"input_per_1k": 0.1, "output_per_1k": 0.3}}'`."""

    telemetry_buffer_size: int = Field(default=10_000, ge=1)
    """Telemetry records held in memory while the broker is slow."""
    telemetry_batch_size: int = Field(default=200, ge=1)
    """Telemetry records published per batch."""
    telemetry_flush_seconds: float = Field(default=0.2, gt=0)
    """The longest a telemetry record waits before its batch is published."""
    telemetry_publish_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long one telemetry batch may take to publish."""
    telemetry_spill_max_bytes: int = Field(default=512 * 1024 * 1024, ge=0)
    """The most disk the telemetry that waits for the broker may take (in the state folder's
    `telemetry_spill`); past it, telemetry is dropped and counted in `llmops_telemetry_dropped_total`."""

    adapter_load_timeout_seconds: float = Field(default=120.0, gt=0)
    """How long a deployed adapter may take to load before the deployment fails."""
