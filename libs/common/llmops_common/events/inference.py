"""The telemetry event that the model server emits for every request, success or failure."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .base import Event, TenantId


class InferenceCompletedV1(Event):
    """One inference request ended; the monitor turns these into latency, cost and drift figures."""

    event_type = "llmops.inference.completed.v1"

    request_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    key_id: str | None = None
    model_name: str
    base_model: str
    adapter_version: str | None = None
    canary_arm: Literal["stable", "candidate"] | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    time_to_first_token_ms: float | None = Field(default=None, ge=0)
    latency_ms: float = Field(ge=0)
    tokens_per_second: float | None = Field(default=None, ge=0)
    queue_time_ms: float = Field(default=0, ge=0)
    cost_usd: float = Field(default=0, ge=0)
    finish_reason: Literal["stop", "length", "error", "cancelled"] | None = None
    status: Literal["ok", "error"]
    error_code: str | None = None
    http_status: int = Field(ge=100, le=599)
    started_at: AwareDatetime
    prompt_text: str | None = None
    completion_text: str | None = None
    text_capture: Literal["none", "redacted", "full"] = "redacted"

    def event_key(self) -> str:
        return self.request_id
