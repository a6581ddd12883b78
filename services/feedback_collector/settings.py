"""Settings of the feedback collector, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from llmops_common.settings import ServiceSettings


class Settings(ServiceSettings):
    """The feedback collector's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "feedback_collector"

    feedback_request_ttl_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    """How long a served request can get feedback; also how long a `feedback_id` is remembered."""
    feedback_max_requests: int = Field(default=1_000_000, ge=1)
    """The most requests the collector keeps; past it the oldest go first."""
    feedback_unknown_request_wait_seconds: float = Field(default=3.0, ge=0)
    """How long a feedback waits for its request's telemetry to arrive before it is answered 404."""
    feedback_max_text_chars: int = Field(default=16_384, ge=1)
    """The most characters of a comment, a correction or the tags together; more is 413."""
    feedback_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """The largest request body the collector reads (a batch included); more is 413."""
