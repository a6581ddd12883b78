"""Human feedback on a served response."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .base import Event, TenantId


class FeedbackSubmittedV1(Event):
    """A product app reported a score (and maybe a correction) for one inference request."""

    event_type = "llmops.feedback.submitted.v1"

    feedback_id: str = Field(min_length=1, max_length=128)
    request_id: str = Field(min_length=1, max_length=128)
    tenant: TenantId
    model_name: str | None = None
    adapter_version: str | None = None
    score: int = Field(ge=-1, le=5)
    label: str | None = Field(default=None, max_length=128)
    comment: str | None = None
    tags: list[str] = Field(default_factory=list)
    correction: str | None = None
    submitted_at: AwareDatetime
    score_kind: Literal["thumbs", "rating"] | None = None
    """How to read `score`: thumbs is -1 or 1, a rating is 1 to 5; None in events from before it existed."""
    correction_outcome: Literal["example_published", "request_text_not_captured"] | None = None
    """What became of the correction: a training example, or none because the request text was not kept."""
    example_record_id: str | None = None
    """The `record_id` of the example published to `llmops.data.raw` for the correction."""

    def event_key(self) -> str:
        return self.request_id
