"""The verdict of one canary check and what a run of checks decides: pure logic, no I/O.

A check compares the candidate arm of a canary with its stable arm over the same window. It is
`inconclusive` while either arm has fewer than `min_requests` requests, however good the candidate looks:
a canary without data holds, it never promotes. It `fail`s when the candidate is worse than stable past a
margin: a higher error rate, a slower p95 latency or p95 time to first token, or, once both arms have
`min_feedback` thumbs, a higher thumbs-down rate. Otherwise it is a `pass`.

`passes_to_promote` consecutive passes promote the candidate (by default one: the first check that has
the minimum sample and finds nothing worse), and `failures_to_roll_back` consecutive failures roll it
back. A pass ends a run of failures and a failure ends a run of passes; an inconclusive check changes
neither, since it says nothing about the candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["inconclusive", "pass", "fail"]
Decision = Literal["hold", "promote", "roll_back"]
VERDICTS: tuple[Verdict, ...] = ("inconclusive", "pass", "fail")


@dataclass(frozen=True)
class ArmStats:
    """One arm's figures over a check's window."""

    requests: int
    errors: int
    p95_latency_ms: float | None
    p95_ttft_ms: float | None
    feedback: int = 0
    """Thumbs feedback rows on this arm's requests."""
    thumbs_down: int = 0

    @property
    def error_rate(self) -> float | None:
        """Errors per request; None without requests."""
        return self.errors / self.requests if self.requests else None

    @property
    def thumbs_down_rate(self) -> float | None:
        """Thumbs-down per thumbs feedback; None without feedback."""
        return self.thumbs_down / self.feedback if self.feedback else None


NO_TRAFFIC = ArmStats(requests=0, errors=0, p95_latency_ms=None, p95_ttft_ms=None)


@dataclass(frozen=True)
class CanaryPolicy:
    """The minimum samples, the margins the candidate may be worse by, and the streaks that decide."""

    min_requests: int = 50
    min_feedback: int = 10
    max_error_rate_increase: float = 0.02
    """Absolute: 0.02 lets a 1% stable error rate become 3%, not more."""
    max_latency_ratio: float = 1.5
    """For p95 latency and p95 time to first token alike."""
    max_thumbs_down_increase: float = 0.1
    passes_to_promote: int = 1
    failures_to_roll_back: int = 2


@dataclass(frozen=True)
class CheckResult:
    """A check's verdict and, for a failure or an inconclusive check, why, in words."""

    verdict: Verdict
    reasons: tuple[str, ...] = ()


def judge(stable: ArmStats, candidate: ArmStats, policy: CanaryPolicy) -> CheckResult:
    """The verdict on `candidate` against `stable`."""
    short = [
        f"the {name} arm has {arm.requests} requests, fewer than the {policy.min_requests} needed"
        for name, arm in (("stable", stable), ("candidate", candidate))
        if arm.requests < policy.min_requests
    ]
    if short:
        return CheckResult("inconclusive", tuple(short))
    reasons = [
        *_error_rate(stable, candidate, policy),
        *_ratio("p95 latency", stable.p95_latency_ms, candidate.p95_latency_ms, policy),
        *_ratio("p95 time to first token", stable.p95_ttft_ms, candidate.p95_ttft_ms, policy),
        *_thumbs_down(stable, candidate, policy),
    ]
    return CheckResult("fail", tuple(reasons)) if reasons else CheckResult("pass")


def _error_rate(stable: ArmStats, candidate: ArmStats, policy: CanaryPolicy) -> list[str]:
    stable_rate, candidate_rate = stable.error_rate or 0.0, candidate.error_rate or 0.0
    if candidate_rate - stable_rate <= policy.max_error_rate_increase:
        return []
    return [
        f"error rate {candidate_rate:.1%} against {stable_rate:.1%} on stable "
        f"(more than {policy.max_error_rate_increase:.1%} higher)"
    ]


def _ratio(figure: str, stable: float | None, candidate: float | None, policy: CanaryPolicy) -> list[str]:
    # No figure on an arm (no streamed request) or a zero on stable: nothing to compare with.
    if stable is None or candidate is None or stable <= 0 or candidate <= stable * policy.max_latency_ratio:
        return []
    return [
        f"{figure} {candidate:.0f} ms is {candidate / stable:.2f}x stable's {stable:.0f} ms "
        f"(more than {policy.max_latency_ratio:g}x)"
    ]


def _thumbs_down(stable: ArmStats, candidate: ArmStats, policy: CanaryPolicy) -> list[str]:
    if min(stable.feedback, candidate.feedback) < policy.min_feedback:
        return []
    stable_rate, candidate_rate = stable.thumbs_down_rate or 0.0, candidate.thumbs_down_rate or 0.0
    if candidate_rate - stable_rate <= policy.max_thumbs_down_increase:
        return []
    return [
        f"thumbs-down rate {candidate_rate:.0%} of {candidate.feedback} against {stable_rate:.0%} of "
        f"{stable.feedback} on stable (more than {policy.max_thumbs_down_increase:.0%} higher)"
    ]


@dataclass(frozen=True)
class Streak:
    """The run of checks a canary is on: consecutive passes, or consecutive failures with their reasons."""

    passes: int = 0
    failures: tuple[tuple[str, ...], ...] = ()
    """The reasons of each failed check of the run, oldest first."""

    def after(self, result: CheckResult) -> Streak:
        """The streak once `result` is added."""
        if result.verdict == "pass":
            return Streak(passes=self.passes + 1)
        if result.verdict == "fail":
            return Streak(failures=(*self.failures, result.reasons))
        return self


def decide(streak: Streak, policy: CanaryPolicy) -> Decision:
    """What the canary's streak calls for."""
    if len(streak.failures) >= policy.failures_to_roll_back:
        return "roll_back"
    if streak.passes >= policy.passes_to_promote:
        return "promote"
    return "hold"
