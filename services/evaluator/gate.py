"""The promotion gate: does the candidate beat production clearly enough, without breaking anything else?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llmops_common.events.training import MetricDelta

from .bootstrap import MIN_RESAMPLES
from .metrics import LOWER_IS_BETTER, REPORTED_ONLY


class GatePolicy(BaseModel):
    """What a candidate must show to be promoted.

    The primary metric's mean delta (candidate minus baseline) must be at least `min_improvement` and its
    95% interval must lie wholly above 0; for a lower-is-better metric (perplexity) the delta must be at
    most `-min_improvement` and the interval wholly below 0. Each guard metric may regress by at most its
    margin, in the metric's own units (BLEU and chrF are 0-100, the others mostly 0-1). Metrics without a
    better direction (`length_ratio`) are refused as primary metric or guard.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary_metric: str = "token_f1"
    """The metric the candidate must improve on."""
    min_improvement: float = Field(default=0.0, ge=0.0)
    """The least mean gain of the primary metric (its interval must also lie wholly on the better side of 0)."""
    guards: dict[str, float] = Field(default_factory=lambda: {"rougeL": 0.02, "exact_match": 0.02})
    """Metrics that may not get worse by more than their margin."""
    min_examples: int = Field(default=20, ge=1)
    """Fewer held-out examples fail the gate."""
    resamples: int = Field(default=1000, ge=MIN_RESAMPLES)
    """Paired bootstrap resamples behind each confidence interval."""
    seed: int = 0
    """The bootstrap's seed, so a re-evaluation gives the same intervals."""

    @field_validator("guards")
    @classmethod
    def _margins_are_not_negative(cls, guards: dict[str, float]) -> dict[str, float]:
        negative = sorted(name for name, margin in guards.items() if margin < 0)
        if negative:
            raise ValueError(f"guard margins are how far a metric may regress, so not negative: {negative}")
        return guards

    @model_validator(mode="after")
    def _metrics_have_a_direction(self) -> GatePolicy:
        undirected = sorted(REPORTED_ONLY & {self.primary_metric, *self.guards})
        if undirected:
            raise ValueError(f"{undirected} have no better direction (closer to 1 is better); they are reported only")
        return self


@dataclass(frozen=True)
class GateVerdict:
    """The gate's decision, with one human sentence per check (passing or failing) saying why."""

    passed: bool
    reasons: list[str]


def _signed(value: float) -> str:
    # `+ 0.0` turns -0.0 into 0.0, so a zero threshold never prints as "-0.000".
    return f"{value + 0.0:+.3f}"


def _change(name: str, delta: MetricDelta) -> str:
    better = -delta.mean if name in LOWER_IS_BETTER else delta.mean
    verb = "improved by" if better > 0 else "regressed by" if better < 0 else "changed by"
    return f"{name} {verb} {_signed(delta.mean)} (95% CI {_signed(delta.low)}..{_signed(delta.high)})"


def _verdict(passed: bool) -> str:
    return "pass" if passed else "fail"


def _examples_check(policy: GatePolicy, examples: int) -> tuple[bool, str]:
    passed = examples >= policy.min_examples
    count = f"{examples} examples" if passed else f"only {examples} examples"
    return passed, f"{count}, the gate needs {policy.min_examples}: {_verdict(passed)}"


def _primary_check(policy: GatePolicy, deltas: Mapping[str, MetricDelta]) -> tuple[bool, str]:
    name = policy.primary_metric
    delta = deltas.get(name)
    if delta is None:
        return False, f"{name} was not measured, and the gate needs it as its primary metric: fail"
    if name in LOWER_IS_BETTER:
        passed = delta.mean <= -policy.min_improvement and delta.high < 0
        needs = f"needs <= {_signed(-policy.min_improvement)} with the upper bound below 0"
    else:
        passed = delta.mean >= policy.min_improvement and delta.low > 0
        needs = f"needs >= {_signed(policy.min_improvement)} with the lower bound above 0"
    return passed, f"{_change(name, delta)}, {needs}: {_verdict(passed)}"


def _guard_check(name: str, margin: float, deltas: Mapping[str, MetricDelta]) -> tuple[bool, str]:
    delta = deltas.get(name)
    if delta is None:
        return False, f"guard {name} was not measured: fail"
    # Written as "within the margin" rather than "beyond it" so that a NaN delta fails.
    passed = delta.mean <= margin if name in LOWER_IS_BETTER else delta.mean >= -margin
    return passed, f"{_change(name, delta)}, the guard allows a regression of at most {margin:.3f}: {_verdict(passed)}"


def judge(policy: GatePolicy, deltas: Mapping[str, MetricDelta], examples: int) -> GateVerdict:
    """Runs every check of `policy` on the paired `deltas` of `examples` examples; the candidate passes
    when all of them do. Reasons come in order: example count, primary metric, then each guard."""
    checks = [
        _examples_check(policy, examples),
        _primary_check(policy, deltas),
        *(_guard_check(name, margin, deltas) for name, margin in policy.guards.items()),
    ]
    return GateVerdict(passed=all(passed for passed, _ in checks), reasons=[reason for _, reason in checks])
