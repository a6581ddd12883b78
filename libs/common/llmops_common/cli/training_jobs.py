"""A fine-tune's state as the training topics tell it: requested, running, succeeded or failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from ..events import (
    Event,
    TrainingCancelRequestedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)
from ..topics import TRAINING_COMPLETED, TRAINING_CONTROL, TRAINING_PROGRESS, TRAINING_REQUESTS

JOB_TOPICS = (TRAINING_REQUESTS, TRAINING_CONTROL, TRAINING_PROGRESS, TRAINING_COMPLETED)
"""Every topic that says something about a fine-tune."""

JobState = Literal["requested", "running", "succeeded", "failed"]


class TrainingJobView(BaseModel):
    """What `llmops train status --json` prints: every field is always there, null when not known yet."""

    job_id: str
    state: JobState
    tenant: str | None
    model_name: str | None
    base_model: str | None
    dataset: str | None
    dataset_version: str | None
    step: int | None
    total_steps: int | None
    loss: float | None
    learning_rate: float | None
    tokens_per_second: float | None
    eta_seconds: float | None
    progress_at: datetime | None
    cancel_reason: str | None
    adapter_version: str | None
    adapter_uri: str | None
    metrics: dict[str, float]
    error: str | None
    duration_seconds: float | None


@dataclass
class TrainingJob:
    """One job's events folded in log order per topic.

    The topics are read side by side, so a completion may be seen before the last progress event:
    the state follows the completion whenever there is one, and progress still takes the newest figures.
    """

    job_id: str
    requested: TrainingRequestedV1 | None = None
    progress: TrainingProgressV1 | None = None
    completed: TrainingCompletedV1 | None = None
    cancel_reason: str | None = None

    def apply(self, event: Event) -> bool:
        """Takes in `event` if it is about this job; returns whether the job's state changed."""
        if getattr(event, "job_id", None) != self.job_id:
            return False
        if isinstance(event, TrainingRequestedV1):
            self.requested = event
        elif isinstance(event, TrainingProgressV1):
            self.progress = event
        elif isinstance(event, TrainingCompletedV1):
            self.completed = event
        elif isinstance(event, TrainingCancelRequestedV1):
            self.cancel_reason = event.reason
        else:
            return False
        return True

    @property
    def known(self) -> bool:
        """Whether any topic has said anything about the job."""
        return any(e is not None for e in (self.requested, self.progress, self.completed, self.cancel_reason))

    @property
    def state(self) -> JobState:
        """Where the job is: a completion's status, else running once progress came, else requested."""
        if self.completed is not None:
            return self.completed.status
        return "running" if self.progress is not None else "requested"

    def view(self) -> TrainingJobView:
        """The job as one flat record, for scripts."""
        requested, progress, completed = self.requested, self.progress, self.completed
        first = completed or progress or requested
        described = completed or requested
        return TrainingJobView(
            job_id=self.job_id,
            state=self.state,
            tenant=first.tenant if first else None,
            model_name=first.model_name if first else None,
            base_model=described.base_model if described else None,
            # A completion may leave the dataset out; the request always names it.
            dataset=(completed.dataset if completed else None) or (requested.dataset if requested else None),
            dataset_version=(completed.dataset_version if completed else None)
            or (requested.dataset_version if requested else None),
            step=progress.step if progress else None,
            total_steps=progress.total_steps if progress else None,
            loss=progress.loss if progress else None,
            learning_rate=progress.learning_rate if progress else None,
            tokens_per_second=progress.tokens_per_second if progress else None,
            eta_seconds=progress.eta_seconds if progress else None,
            progress_at=progress.at if progress else None,
            cancel_reason=self.cancel_reason,
            adapter_version=completed.adapter_version if completed else None,
            adapter_uri=completed.adapter.uri if completed and completed.adapter else None,
            metrics=completed.metrics if completed else {},
            error=completed.error if completed else None,
            duration_seconds=completed.duration_seconds if completed else None,
        )
