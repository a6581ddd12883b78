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
    max_tokens_cap: int = Field(default=4096, ge=1)
    """The most tokens one choice may ask for; more is a 400."""
    default_max_tokens: int = Field(default=256, ge=1)
    max_n: int = Field(default=8, ge=1)
    max_running_requests: int = Field(default=64, ge=1)
    """Requests generating at once; the engine batches them."""
    max_queued_requests: int = Field(default=256, ge=0)
    """Requests waiting for a running slot; one more is refused with 503 rather than queued."""

    replica_poll_wait_ms: int = Field(default=200, ge=1)
    """How often the key, prompt and deployment replicas ask the broker for changes when it is quiet.
    The server needs no read-your-writes: a new key or deployment counts within this, and the CPU the
    polls would take stays with the engine."""

    retriever_timeout_seconds: float = Field(default=5.0, gt=0)
    rag_context_max_chars: int = Field(default=8000, ge=0)

    text_capture: TextCapture = "redacted"
    """How much prompt and completion text telemetry carries: none, PII-redacted, or full."""
    log_prompts: bool = False
    """Whether prompts may appear in logs; off, they never do."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """USD per 1k input and output tokens by model name (deployed or base), e.g.
    `LLMOPS_PRICES='{"support-assistant": {"input_per_1k": 0.1, "output_per_1k": 0.3}}'`."""

    telemetry_buffer_size: int = Field(default=10_000, ge=1)
    telemetry_batch_size: int = Field(default=200, ge=1)
    telemetry_flush_seconds: float = Field(default=0.2, gt=0)
    telemetry_publish_timeout_seconds: float = Field(default=5.0, gt=0)

    adapter_load_timeout_seconds: float = Field(default=120.0, gt=0)
