"""Settings of the trainer, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from llmops_common.settings import ServiceSettings

DEFAULT_RETRAIN_DETECTORS = ("drift", "embedding_drift", "quality")


class RetrainPolicy(BaseModel):
    """When a deployed model is fine-tuned again without anybody asking."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = Field(min_length=1)
    """The tenant whose data trains the model (its feedback dataset belongs to it)."""
    base_model: str | None = None
    """The base model the adapter is for; unset, the trainer's own base model."""
    dataset: str | None = None
    """The dataset to train on; unset, `feedback-<model>`, where the feedback collector sends corrections."""
    min_new_examples: int = Field(default=50, ge=1)
    """A sealed version with at least this many examples more than the last one trained on starts a job."""
    alert_detectors: tuple[str, ...] = DEFAULT_RETRAIN_DETECTORS
    """Alerts of these detectors, fired for the model, start a job on the dataset's latest version."""
    cooldown_seconds: float = Field(default=3600.0, ge=0)
    """After a job is requested, triggers wait this long, so that one incident gives one job."""
    hyperparameters: dict[str, float | int | str | bool] = Field(default_factory=dict)

    def dataset_for(self, model_name: str) -> str:
        """The dataset the policy watches and trains on."""
        return self.dataset or f"feedback-{model_name}"


class Settings(ServiceSettings):
    """The trainer's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "trainer"

    base_model_name: str | None = None
    """The name lifecycle events and requests give the base model; unset, its folder name or hub id."""
    train_checkpoint_every_steps: int = Field(default=50, ge=1)
    """A checkpoint goes to the artifact store every this many steps; a restarted trainer resumes there."""
    train_progress_every_steps: int = Field(default=5, ge=1)
    """A `llmops.training.progress.v1` event every this many steps (and at the end)."""
    train_max_job_seconds: float = Field(default=6 * 3600.0, gt=0)
    """The longest a job may run; Kafka keeps the request's partition assigned to the trainer that long."""
    retrain_policies: dict[str, RetrainPolicy] = Field(default_factory=dict)
    """Auto-retrain, per deployed model name (JSON): `{"support-assistant": {"tenant": "acme"}}`."""
    mlflow_tracking_uri: str | None = None
    """Also log each run to MLflow (parameters, metrics per step, the card and the adapter)."""
    mlflow_experiment: str = "llmops-fine-tunes"
    """The MLflow experiment runs are logged under."""
