"""The promotion gate: verdicts and the exact sentences that explain them."""

from __future__ import annotations

import pydantic
import pytest

from llmops_common.events.training import MetricDelta
from services.evaluator.gate import GatePolicy, GateVerdict, judge

GOOD = {
    "token_f1": MetricDelta(mean=0.081, low=0.042, high=0.120),
    "rougeL": MetricDelta(mean=-0.01, low=-0.03, high=0.01),
    "exact_match": MetricDelta(mean=0.0, low=-0.02, high=0.02),
}
ROUGE_HOLDS = "rougeL regressed by -0.010 (95% CI -0.030..+0.010), the guard allows a regression of at most 0.020: pass"
EXACT_HOLDS = (
    "exact_match changed by +0.000 (95% CI -0.020..+0.020), the guard allows a regression of at most 0.020: pass"
)
F1_IMPROVES = "token_f1 improved by +0.081 (95% CI +0.042..+0.120), needs >= +0.000 with the lower bound above 0: pass"


def test_a_clear_improvement_passes_with_every_reason() -> None:
    assert judge(GatePolicy(), GOOD, examples=40) == GateVerdict(
        passed=True, reasons=["40 examples, the gate needs 20: pass", F1_IMPROVES, ROUGE_HOLDS, EXACT_HOLDS]
    )


def test_too_few_examples_fail() -> None:
    verdict = judge(GatePolicy(), GOOD, examples=12)
    assert verdict == GateVerdict(
        passed=False, reasons=["only 12 examples, the gate needs 20: fail", F1_IMPROVES, ROUGE_HOLDS, EXACT_HOLDS]
    )


def test_an_interval_touching_zero_fails() -> None:
    deltas = {**GOOD, "token_f1": MetricDelta(mean=0.05, low=0.0, high=0.1)}
    verdict = judge(GatePolicy(), deltas, examples=40)
    assert not verdict.passed
    assert verdict.reasons[1] == (
        "token_f1 improved by +0.050 (95% CI +0.000..+0.100), needs >= +0.000 with the lower bound above 0: fail"
    )


def test_a_regression_of_the_primary_metric_fails() -> None:
    deltas = {**GOOD, "token_f1": MetricDelta(mean=-0.02, low=-0.05, high=0.01)}
    verdict = judge(GatePolicy(), deltas, examples=40)
    assert not verdict.passed
    assert verdict.reasons[1] == (
        "token_f1 regressed by -0.020 (95% CI -0.050..+0.010), needs >= +0.000 with the lower bound above 0: fail"
    )


def test_an_improvement_smaller_than_the_minimum_fails() -> None:
    verdict = judge(GatePolicy(min_improvement=0.1), GOOD, examples=40)
    assert not verdict.passed
    assert verdict.reasons[1] == (
        "token_f1 improved by +0.081 (95% CI +0.042..+0.120), needs >= +0.100 with the lower bound above 0: fail"
    )


def test_a_guard_regressing_past_its_margin_fails() -> None:
    deltas = {**GOOD, "exact_match": MetricDelta(mean=-0.05, low=-0.08, high=-0.02)}
    verdict = judge(GatePolicy(), deltas, examples=40)
    assert verdict == GateVerdict(
        passed=False,
        reasons=[
            "40 examples, the gate needs 20: pass",
            F1_IMPROVES,
            ROUGE_HOLDS,
            "exact_match regressed by -0.050 (95% CI -0.080..-0.020), "
            "the guard allows a regression of at most 0.020: fail",
        ],
    )


def test_a_regression_exactly_at_the_margin_passes() -> None:
    deltas = {**GOOD, "rougeL": MetricDelta(mean=-0.25, low=-0.5, high=0.0)}
    verdict = judge(GatePolicy(guards={"rougeL": 0.25}), deltas, examples=40)
    assert verdict.passed
    assert verdict.reasons[2] == (
        "rougeL regressed by -0.250 (95% CI -0.500..+0.000), the guard allows a regression of at most 0.250: pass"
    )


def test_a_missing_primary_metric_fails() -> None:
    deltas = {name: delta for name, delta in GOOD.items() if name != "token_f1"}
    verdict = judge(GatePolicy(), deltas, examples=40)
    assert not verdict.passed
    assert verdict.reasons[1] == "token_f1 was not measured, and the gate needs it as its primary metric: fail"


def test_an_unknown_guard_fails() -> None:
    verdict = judge(GatePolicy(guards={"rougel": 0.02}), GOOD, examples=40)
    assert verdict == GateVerdict(
        passed=False,
        reasons=["40 examples, the gate needs 20: pass", F1_IMPROVES, "guard rougel was not measured: fail"],
    )


def test_no_guards_only_the_count_and_primary_metric() -> None:
    verdict = judge(GatePolicy(guards={}), GOOD, examples=20)
    assert verdict == GateVerdict(passed=True, reasons=["20 examples, the gate needs 20: pass", F1_IMPROVES])


def test_lower_is_better_primary_metric_flips_the_signs() -> None:
    policy = GatePolicy(primary_metric="perplexity", min_improvement=0.5, guards={})
    better = judge(policy, {"perplexity": MetricDelta(mean=-1.2, low=-2.0, high=-0.4)}, examples=40)
    assert better == GateVerdict(
        passed=True,
        reasons=[
            "40 examples, the gate needs 20: pass",
            "perplexity improved by -1.200 (95% CI -2.000..-0.400), needs <= -0.500 with the upper bound below 0: pass",
        ],
    )
    worse = judge(policy, {"perplexity": MetricDelta(mean=1.2, low=0.4, high=2.0)}, examples=40)
    assert not worse.passed
    assert worse.reasons[1] == (
        "perplexity regressed by +1.200 (95% CI +0.400..+2.000), needs <= -0.500 with the upper bound below 0: fail"
    )


def test_lower_is_better_with_no_minimum_prints_a_plain_zero() -> None:
    policy = GatePolicy(primary_metric="perplexity", guards={})
    verdict = judge(policy, {"perplexity": MetricDelta(mean=-0.3, low=-0.6, high=0.1)}, examples=40)
    assert verdict.reasons[1] == (
        "perplexity improved by -0.300 (95% CI -0.600..+0.100), needs <= +0.000 with the upper bound below 0: fail"
    )


def test_lower_is_better_guard() -> None:
    policy = GatePolicy(guards={"perplexity": 1.0})
    rising = {**GOOD, "perplexity": MetricDelta(mean=1.5, low=0.5, high=2.5)}
    verdict = judge(policy, rising, examples=40)
    assert not verdict.passed
    assert verdict.reasons[2] == (
        "perplexity regressed by +1.500 (95% CI +0.500..+2.500), the guard allows a regression of at most 1.000: fail"
    )
    falling = {**GOOD, "perplexity": MetricDelta(mean=-1.5, low=-2.5, high=-0.5)}
    assert judge(policy, falling, examples=40).passed


def test_a_nan_guard_fails() -> None:
    deltas = {**GOOD, "rougeL": MetricDelta(mean=float("nan"), low=float("nan"), high=float("nan"))}
    verdict = judge(GatePolicy(), deltas, examples=40)
    assert not verdict.passed
    assert (
        verdict.reasons[2]
        == "rougeL changed by +nan (95% CI +nan..+nan), the guard allows a regression of at most 0.020: fail"
    )


def test_policy_defaults() -> None:
    policy = GatePolicy()
    assert policy.primary_metric == "token_f1"
    assert policy.min_improvement == 0.0
    assert policy.guards == {"rougeL": 0.02, "exact_match": 0.02}
    assert (policy.min_examples, policy.resamples, policy.seed) == (20, 1000, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"primary_metric": "length_ratio"}, "no better direction"),
        ({"guards": {"length_ratio": 0.1}}, "no better direction"),
        ({"guards": {"rougeL": -0.1}}, "not negative"),
        ({"min_improvement": -0.1}, "greater than or equal to 0"),
        ({"min_examples": 0}, "greater than or equal to 1"),
        ({"resamples": 999}, "greater than or equal to 1000"),
        ({"primary_metrics": "bleu"}, "Extra inputs are not permitted"),
    ],
)
def test_policy_refuses_bad_settings(fields: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        GatePolicy.model_validate(fields)


def test_policy_is_frozen() -> None:
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        GatePolicy().min_examples = 5  # type: ignore[misc]
