"""Events of fine-tuning and evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .base import ArtifactRef, ClosedModel, Event, TenantId


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
    dataset_artifact: ArtifactRef | None = Field(
        default=None,
        description="Where the sealed version lies; without it the trainer finds it on `llmops.data.datasets`.",
    )
    reason: str | None = Field(default=None, description="Why the job was asked for: a command, feedback, an alert.")
    requested_by: str | None = None

    def event_key(self) -> str:
        return self.job_id


class TrainingProgressV1(Event):
    """A running fine-tune's progress, published every few steps."""

    event_type = "llmops.training.progress.v1"

    job_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    model_name: str
    step: int = Field(ge=0)
    total_steps: int = Field(ge=1)
    loss: float | None = None
    learning_rate: float | None = None
    tokens_per_second: float | None = Field(default=None, ge=0)
    eta_seconds: float | None = Field(default=None, ge=0)
    checkpoint_step: int | None = Field(
        default=None, ge=0, description="The step of the last checkpoint in the artifact store, if any."
    )
    at: AwareDatetime

    def event_key(self) -> str:
        return self.job_id


class TrainingCancelRequestedV1(Event):
    """Somebody asked to stop a fine-tune; it then completes as failed, with the reason."""

    event_type = "llmops.training.cancel_requested.v1"

    job_id: str = Field(min_length=1, max_length=128)
    requested_by: str | None = None
    reason: str = "cancelled"

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
    dataset: str | None = None
    dataset_version: str | None = None
    dataset_artifact: ArtifactRef | None = Field(default=None, description="The sealed version trained on.")
    model_card: ArtifactRef | None = Field(default=None, description="The adapter's model card (Markdown).")
    hyperparameters: dict[str, float | int | str | bool] = Field(default_factory=dict)
    steps: int | None = Field(default=None, ge=0)

    def event_key(self) -> str:
        return self.job_id


class MetricDelta(ClosedModel):
    """A metric's paired difference, candidate minus baseline, with its bootstrap 95% interval."""

    mean: float
    low: float
    high: float


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
    job_id: str | None = Field(default=None, description="The fine-tune evaluated, for an adapter.")
    subject: Literal["adapter", "prompt"] | None = None
    baseline_adapter_version: str | None = Field(default=None, description="Production's version when scored.")
    baseline_metrics: dict[str, float] = Field(default_factory=dict)
    deltas: dict[str, MetricDelta] = Field(default_factory=dict)
    primary_metric: str | None = None
    examples: int | None = Field(default=None, ge=0)
    report: ArtifactRef | None = Field(default=None, description="The Markdown report; its PNG is `report_chart`.")
    report_chart: ArtifactRef | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None

    def event_key(self) -> str:
        return self.eval_id
