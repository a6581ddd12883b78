"""Response body of `GET /v1/canaries`: each canary in progress, with what its last check found."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel

from .canary_analysis import ArmStats, Verdict
from .canary_board import Canary
from .canary_watch import CanaryCheck, CanaryProgress


class ArmView(BaseModel):
    """One arm's figures over the last check's window; rates and p95s are None without data."""

    requests: int
    errors: int
    error_rate: float | None
    p95_latency_ms: float | None
    p95_ttft_ms: float | None
    feedback: int
    thumbs_down: int
    thumbs_down_rate: float | None


class CheckView(BaseModel):
    """The last check of a canary."""

    checked_at: AwareDatetime
    window_start: AwareDatetime
    window_end: AwareDatetime
    verdict: Verdict
    reasons: list[str]
    """Why it failed, or why it was inconclusive; empty for a pass."""
    stable: ArmView
    candidate: ArmView


class CanaryView(BaseModel):
    """A canary in progress."""

    model_name: str
    base_model: str
    canary_event_id: str
    started_at: AwareDatetime
    stable_adapter_version: str | None
    candidate_adapter_version: str
    candidate_percent: float
    checks: int
    consecutive_passes: int
    consecutive_failures: int
    last_check: CheckView | None
    """None until the first check."""
    decision: Literal["promoted", "rolled_back"] | None
    """Published, and about to end the canary once read back from the lifecycle topic."""


class CanaryList(BaseModel):
    """The canaries in progress, by model name."""

    canaries: list[CanaryView]


def arm_view(arm: ArmStats) -> ArmView:
    """An arm's figures as the API shows them."""
    return ArmView(
        requests=arm.requests,
        errors=arm.errors,
        error_rate=arm.error_rate,
        p95_latency_ms=arm.p95_latency_ms,
        p95_ttft_ms=arm.p95_ttft_ms,
        feedback=arm.feedback,
        thumbs_down=arm.thumbs_down,
        thumbs_down_rate=arm.thumbs_down_rate,
    )


def check_view(check: CanaryCheck) -> CheckView:
    """A check as the API shows it."""
    return CheckView(
        checked_at=check.checked_at,
        window_start=check.window_start,
        window_end=check.window_end,
        verdict=check.result.verdict,
        reasons=list(check.result.reasons),
        stable=arm_view(check.stable),
        candidate=arm_view(check.candidate),
    )


def canary_view(canary: Canary, progress: CanaryProgress) -> CanaryView:
    """A canary and its progress as the API shows them."""
    started = canary.event
    return CanaryView(
        model_name=started.model_name,
        base_model=started.base_model,
        canary_event_id=canary.event_id,
        started_at=canary.started_at,
        stable_adapter_version=started.stable_adapter_version,
        candidate_adapter_version=started.candidate_adapter_version,
        candidate_percent=started.candidate_percent,
        checks=progress.checks,
        consecutive_passes=progress.streak.passes,
        consecutive_failures=len(progress.streak.failures),
        last_check=check_view(progress.last) if progress.last else None,
        decision=progress.outcome,
    )
