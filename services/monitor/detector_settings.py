"""Thresholds, windows and budgets of the detectors: groups of the monitor's settings.

Each group is one environment variable holding JSON, e.g. `LLMOPS_DRIFT='{"psi": 0.25}'`; fields left
out keep their defaults. Every threshold has a lower `clear` level: an alert fires past the threshold
and resolves only back past the clear level (hysteresis), so a metric hovering at the line cannot flap.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectionSettings(_Group):
    """When detectors run, over which windows, and how alerts are de-duplicated."""

    enabled: bool = True
    """Whether the detectors run at all."""
    interval_seconds: float = Field(default=60.0, gt=0)
    """How often every detector runs."""
    current_window_seconds: int = Field(default=3600, ge=60)
    """The current window: the last this many seconds."""
    reference_window_seconds: int = Field(default=86_400, ge=60)
    """The reference window's length, from the model's last promotion (or rollback) on."""
    baseline_start: AwareDatetime | None = None
    """The start of a fixed reference window (with `baseline_end`)."""
    baseline_end: AwareDatetime | None = None
    """A fixed reference window for every model instead, when both are set."""
    cooldown_seconds: float = Field(default=900.0, ge=0)
    """After an alert resolves, the same alert stays silent this long (enforced budgets excepted)."""
    fire_after_runs: int = Field(default=1, ge=1)
    """Consecutive runs past the threshold before an alert fires."""
    resolve_after_runs: int = Field(default=2, ge=1)
    """Consecutive runs back past the clear level before it resolves."""
    query_base_url: str | None = None
    """Where an alert's query link points (the monitor's SQL endpoint); None: the monitor's own URL."""

    @model_validator(mode="after")
    def _baseline_is_a_range(self) -> DetectionSettings:
        start, end = self.baseline_start, self.baseline_end
        if (start is None) != (end is None) or (start is not None and end is not None and start >= end):
            raise ValueError("baseline_start and baseline_end are set together, with start before end")
        return self

    def baseline(self) -> tuple[datetime, datetime] | None:
        """The configured fixed reference window, if any."""
        if self.baseline_start is None or self.baseline_end is None:
            return None
        return self.baseline_start, self.baseline_end


class DriftSettings(_Group):
    """Input and output drift: PSI and KS on prompt tokens, completion tokens and output length."""

    psi: float = Field(default=0.2, gt=0)
    """Population stability index at which drift fires."""
    psi_clear: float = Field(default=0.1, gt=0)
    """PSI under which a drift alert resolves."""
    ks_statistic: float = Field(default=0.1, gt=0, le=1)
    """Kolmogorov-Smirnov distance at which drift fires."""
    ks_clear: float = Field(default=0.05, gt=0, le=1)
    """KS distance under which a drift alert resolves."""
    ks_p_value: float = Field(default=0.01, gt=0, lt=1)
    """KS fires only when the gap is also significant at this level."""
    bins: int = Field(default=10, ge=2)
    """Histogram bins for PSI."""
    min_samples: int = Field(default=200, ge=1)
    """Windows with fewer requests are not compared."""


class EmbeddingDriftSettings(_Group):
    """Embedding drift of captured (redacted) prompts, embedded with the MiniLM model."""

    enabled: bool = True
    """Whether embedding drift is checked (it embeds prompts, the costliest detector)."""
    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    """The sentence-embedding model that embeds sampled prompts."""
    sample_size: int = Field(default=128, ge=8)
    """Prompts sampled from each window to embed."""
    min_samples: int = Field(default=30, ge=4)
    """Windows with fewer captured prompts are not compared."""
    cosine_distance: float = Field(default=0.15, gt=0)
    """Two samples of 64 prompts of one distribution measured 0.02 to 0.05 apart, a topic shift 0.5 to 0.7."""
    cosine_clear: float = Field(default=0.08, gt=0)
    """Mean-embedding cosine distance under which the alert resolves."""
    mmd_p_value: float = Field(default=0.01, gt=0, lt=1)
    """MMD permutation-test p-value under which embedding drift fires."""
    mmd_clear_p_value: float = Field(default=0.03, gt=0, le=1)
    """p-value above which embedding drift resolves."""
    permutations: int = Field(default=200, ge=20)
    """Permutations of the MMD test."""


class QualitySettings(_Group):
    """Feedback, empty or refused outputs, and errors."""

    feedback_mean_drop: float = Field(default=0.15, gt=0)
    """Drop of the mean score, on a 0 to 1 scale (thumbs: down 0, up 1; ratings 1 to 5: 0 to 1)."""
    feedback_mean_drop_clear: float = Field(default=0.075, gt=0)
    """A drop under which the feedback alert resolves."""
    negative_feedback_rate: float = Field(default=0.3, gt=0, le=1)
    """Share of thumbs-down at which the quality alert fires."""
    negative_feedback_rate_clear: float = Field(default=0.2, gt=0, le=1)
    """Share of thumbs-down under which it resolves."""
    min_feedback: int = Field(default=20, ge=1)
    """Windows with less feedback are not judged."""
    empty_or_refusal_rate: float = Field(default=0.1, gt=0, le=1)
    """Share of empty or refusing answers at which the quality alert fires."""
    empty_or_refusal_rate_clear: float = Field(default=0.05, gt=0, le=1)
    """Share under which it resolves."""
    refusal_pattern: str = r"(?i)^\s*(I'm sorry|I am sorry|I cannot|I can't|I can not|As an AI)"
    """An RE2 regular expression: a completion matching it is a refusal."""
    error_rate: float = Field(default=0.05, gt=0, le=1)
    """Share of failed requests at which the error alert fires."""
    error_rate_clear: float = Field(default=0.02, gt=0, le=1)
    """Share under which it resolves."""
    min_requests: int = Field(default=50, ge=1)
    """Windows with fewer requests are not judged."""


class LatencySettings(_Group):
    """Service-level objectives for p95 latency and p95 time to first token."""

    p95_latency_ms: float = Field(default=2000.0, gt=0)
    """p95 request latency at which the latency alert fires."""
    p95_ttft_ms: float = Field(default=500.0, gt=0)
    """p95 time to first token at which the latency alert fires."""
    clear_ratio: float = Field(default=0.9, gt=0, le=1)
    """An alert resolves once the p95 is under the objective times this."""
    critical_ratio: float = Field(default=2.0, ge=1)
    """Critical from the objective times this."""
    window_seconds: int = Field(default=300, ge=60)
    """The window the percentiles are taken over."""
    min_requests: int = Field(default=20, ge=1)
    """Windows with fewer requests are not judged."""


class Budget(_Group):
    """A spend limit over a calendar window (UTC). `tenant` "*" applies it to each tenant on its own;
    `model_name` None counts all of the tenant's models together, "*" each model on its own."""

    tenant: str = "*"
    model_name: str | None = None
    window: Literal["hour", "day", "month"]
    limit_usd: float = Field(gt=0)
    enforce: bool = False
    """Exceeding it blocks the tenant (429) until the window resets."""


class CostSettings(_Group):
    """Budgets, spend-rate spikes and the projected month-end spend."""

    budgets: tuple[Budget, ...] = ()
    """Spending budgets: `[{"tenant": "acme", "window": "day", "limit_usd": 50, "enforce": true}]`."""
    spend_rate_multiplier: float = Field(default=3.0, gt=1)
    """The last hour's spend against this many times the trailing hourly average."""
    spend_rate_clear_multiplier: float = Field(default=2.0, gt=0)
    """The multiple under which the spend-rate alert resolves."""
    trailing_hours: int = Field(default=24, ge=1)
    """Hours of spending the current hour is compared with."""
    min_trailing_hourly_usd: float = Field(default=0.1, ge=0)
    """No spike is measured against a trailing hourly average below this: a rise from nothing is no spike."""


class WebhookSettings(_Group):
    """An optional Slack-compatible webhook every fired and resolved alert is posted to."""

    url: str | None = None
    """Where alerts are also POSTed; unset, no webhook."""
    attempts: int = Field(default=3, ge=1, le=10)
    """Tries per webhook call."""
    backoff_seconds: float = Field(default=0.5, ge=0)
    """The first wait between tries, doubled each time."""
    timeout_seconds: float = Field(default=5.0, gt=0)
    """How long one webhook call may take."""
