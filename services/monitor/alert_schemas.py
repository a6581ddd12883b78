"""Response bodies of `GET /v1/alerts` and `GET /v1/report`."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel


class AlertView(BaseModel):
    """An alert's latest state."""

    alert_id: str
    state: Literal["fired", "resolved"]
    detector: str
    severity: str
    tenant: str | None
    model_name: str | None
    adapter_version: str | None
    value: float
    threshold: float
    message: str
    enforce: bool
    query_url: str
    current_start: AwareDatetime
    current_end: AwareDatetime
    first_fired_at: AwareDatetime | None
    fired_at: AwareDatetime | None
    resolved_at: AwareDatetime | None
    updated_at: AwareDatetime


class AlertList(BaseModel):
    """Alerts changed in the window asked for, the latest change first."""

    alerts: list[AlertView]


class ReportBucket(BaseModel):
    """One time bucket of a model's report; None where the bucket has no data."""

    start: AwareDatetime
    requests: int
    errors: int
    cost_usd: float
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    p95_ttft_ms: float | None
    feedback: int
    negative_feedback: int
    """Thumbs down."""
    mean_feedback_score: float | None
    psi_prompt_tokens: float | None
    psi_completion_tokens: float | None
    embedding_centroid_cosine: float | None


class ModelReport(BaseModel):
    """What `llmops report` draws: a model's traffic, latency, cost, drift and feedback over time."""

    model: str
    since: str
    start: AwareDatetime
    end: AwareDatetime
    bucket_seconds: int
    buckets: list[ReportBucket]
    alerts: list[AlertView]
