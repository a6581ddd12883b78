"""The monitor's HTTP response bodies."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel


class Quantiles(BaseModel):
    """p50, p95 and p99 of a latency, in milliseconds; None without data."""

    p50: float | None
    p95: float | None
    p99: float | None


class AdapterSummary(BaseModel):
    """One adapter version's share of a model's traffic in the window."""

    adapter_version: str
    requests: int
    errors: int
    cost_usd: float
    latency_ms: Quantiles


class FeedbackSummary(BaseModel):
    """Feedback given on the model's answers in the window."""

    count: int
    mean_score: float | None
    thumbs_down: int


class MetricsSummary(BaseModel):
    """A deployed model's traffic, errors, tokens, cost, latency and feedback over a window."""

    model: str
    tenant: str | None
    """The tenant the figures are of; None: every tenant (an operator's summary)."""
    window: str
    start: AwareDatetime
    end: AwareDatetime
    requests: int
    errors: int
    error_rate: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: Quantiles
    time_to_first_token_ms: Quantiles
    by_adapter: list[AdapterSummary]
    feedback: FeedbackSummary
