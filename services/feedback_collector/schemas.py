"""Request and response bodies of the feedback API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_common.events import FeedbackSubmittedV1


class FeedbackIn(BaseModel):
    """One feedback on one served request; text limits are checked by the service (413, not 422)."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=128)
    score_kind: Literal["thumbs", "rating"]
    score: int
    label: str | None = Field(default=None, max_length=128)
    comment: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=32)
    correction: str | None = None
    feedback_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _score_fits_kind(self) -> FeedbackIn:
        if self.score_kind == "thumbs" and self.score not in (-1, 1):
            raise ValueError("a thumbs score is -1 or 1")
        if self.score_kind == "rating" and not 1 <= self.score <= 5:
            raise ValueError("a rating score is 1 to 5")
        return self


class FeedbackBatchIn(BaseModel):
    """Up to a hundred feedbacks in one call; each is accepted or refused on its own."""

    model_config = ConfigDict(extra="forbid")

    items: list[FeedbackIn] = Field(min_length=1, max_length=100)


class FeedbackOut(BaseModel):
    """What the collector accepted: the feedback id and what became of the correction."""

    feedback_id: str
    request_id: str
    correction_outcome: Literal["example_published", "request_text_not_captured"] | None
    example_record_id: str | None

    @classmethod
    def of(cls, event: FeedbackSubmittedV1) -> FeedbackOut:
        """The answer for a published feedback event."""
        return cls(
            feedback_id=event.feedback_id,
            request_id=event.request_id,
            correction_outcome=event.correction_outcome,
            example_record_id=event.example_record_id,
        )


class BatchItemOut(BaseModel):
    """One item's outcome: its HTTP status, and either the accepted feedback or the error."""

    status: int
    feedback: FeedbackOut | None = None
    error: dict[str, object] | None = None


class FeedbackBatchOut(BaseModel):
    """The outcome of each item, in the order they came."""

    results: list[BatchItemOut]
