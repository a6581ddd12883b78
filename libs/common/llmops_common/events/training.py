"""Events of fine-tuning and evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import ArtifactRef, Event, TenantId


class TrainingRequestedV1(Event):
    """Somebody asked for a LoRA fine-tune of a base model on a dataset version."""

    event_type = "llmops.training.requested.v1"

    job_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    model_name: str = Field(min_length=1, description="The deployed model the adapter is for.")
    base_model: str = Field(min_length=1)
    dataset: str
    dataset_version: str
    hyperparameters: dict[str, float | int | str | bool] = Field(default_factory=dict)

    def event_key(self) -> str:
        return self.job_id


class TrainingCompletedV1(Event):
    """A fine-tune ended; on success it names the adapter it produced."""

    event_type = "llmops.training.completed.v1"

    job_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    model_name: str
    base_model: str
    status: Literal["succeeded", "failed"]
    adapter_version: str | None = None
    adapter: ArtifactRef | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    duration_seconds: float = Field(ge=0)

    def event_key(self) -> str:
        return self.job_id


class EvalCompletedV1(Event):
    """An evaluation run ended, with its metrics and the promotion gate's verdict."""

    event_type = "llmops.eval.completed.v1"

    eval_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    model_name: str
    adapter_version: str | None = None
    dataset: str
    dataset_version: str
    metrics: dict[str, float]
    gate_passed: bool
    gate_reasons: list[str] = Field(default_factory=list)

    def event_key(self) -> str:
        return self.eval_id
