"""The canary verdicts: no promotion without data, failures on errors, latency and thumbs-down, and the
streaks that promote or roll back."""

from __future__ import annotations

from dataclasses import replace

from services.monitor.canary_analysis import (
    ArmStats,
    CanaryPolicy,
    CheckResult,
    Streak,
    decide,
    judge,
)

POLICY = CanaryPolicy()
STABLE = ArmStats(requests=200, errors=2, p95_latency_ms=400.0, p95_ttft_ms=80.0, feedback=20, thumbs_down=2)


def arm(**changes: object) -> ArmStats:
    """Stable's figures with some changed."""
    return replace(STABLE, **changes)  # type: ignore[arg-type]


def streak_of(*verdicts: CheckResult) -> Streak:
    streak = Streak()
    for result in verdicts:
        streak = streak.after(result)
    return streak


PASS = CheckResult("pass")
FAIL = CheckResult("fail", ("error rate 25.0% against 1.0% on stable (more than 2.0% higher)",))
INCONCLUSIVE = CheckResult("inconclusive", ("the candidate arm has 3 requests, fewer than the 50 needed",))


def test_below_the_minimum_sample_is_inconclusive_even_when_the_candidate_looks_perfect() -> None:
    perfect = ArmStats(requests=49, errors=0, p95_latency_ms=10.0, p95_ttft_ms=1.0, feedback=49, thumbs_down=0)

    result = judge(STABLE, perfect, POLICY)

    assert result == CheckResult("inconclusive", ("the candidate arm has 49 requests, fewer than the 50 needed",))
    assert decide(streak_of(result, result, result), POLICY) == "hold"


def test_a_stable_arm_below_the_minimum_is_inconclusive_too() -> None:
    result = judge(arm(requests=10, errors=0), arm(), POLICY)

    assert result == CheckResult("inconclusive", ("the stable arm has 10 requests, fewer than the 50 needed",))


def test_no_traffic_at_all_is_inconclusive_on_both_arms() -> None:
    empty = ArmStats(requests=0, errors=0, p95_latency_ms=None, p95_ttft_ms=None)

    assert judge(empty, empty, POLICY).reasons == (
        "the stable arm has 0 requests, fewer than the 50 needed",
        "the candidate arm has 0 requests, fewer than the 50 needed",
    )


def test_a_candidate_as_good_as_stable_passes() -> None:
    assert judge(STABLE, arm(), POLICY) == CheckResult("pass")


def test_worse_within_every_margin_still_passes() -> None:
    # error rate +2 points, latency and TTFT 1.5x, thumbs-down +10 points: each exactly at its margin.
    candidate = arm(errors=6, p95_latency_ms=600.0, p95_ttft_ms=120.0, thumbs_down=4)

    assert judge(STABLE, candidate, POLICY) == CheckResult("pass")


def test_a_higher_error_rate_fails() -> None:
    result = judge(STABLE, arm(errors=12), POLICY)

    assert result == CheckResult("fail", ("error rate 6.0% against 1.0% on stable (more than 2.0% higher)",))


def test_a_slower_p95_latency_fails() -> None:
    result = judge(STABLE, arm(p95_latency_ms=900.0), POLICY)

    assert result == CheckResult("fail", ("p95 latency 900 ms is 2.25x stable's 400 ms (more than 1.5x)",))


def test_a_slower_time_to_first_token_fails() -> None:
    result = judge(STABLE, arm(p95_ttft_ms=200.0), POLICY)

    assert result == CheckResult("fail", ("p95 time to first token 200 ms is 2.50x stable's 80 ms (more than 1.5x)",))


def test_more_thumbs_down_fails() -> None:
    result = judge(STABLE, arm(feedback=20, thumbs_down=8), POLICY)

    assert result == CheckResult(
        "fail", ("thumbs-down rate 40% of 20 against 10% of 20 on stable (more than 10% higher)",)
    )


def test_thumbs_down_is_not_compared_below_the_minimum_feedback() -> None:
    result = judge(arm(feedback=9, thumbs_down=0), arm(feedback=9, thumbs_down=9), POLICY)

    assert result == CheckResult("pass")


def test_every_breach_is_a_reason() -> None:
    result = judge(STABLE, arm(errors=40, p95_latency_ms=1000.0, p95_ttft_ms=400.0, thumbs_down=10), POLICY)

    assert result.verdict == "fail"
    assert [reason.split(" ")[0:2] for reason in result.reasons] == [
        ["error", "rate"],
        ["p95", "latency"],
        ["p95", "time"],
        ["thumbs-down", "rate"],
    ]


def test_a_missing_time_to_first_token_is_not_compared() -> None:
    assert judge(arm(p95_ttft_ms=None), arm(p95_ttft_ms=5000.0), POLICY) == CheckResult("pass")


def test_one_pass_promotes_by_default() -> None:
    assert decide(streak_of(INCONCLUSIVE, PASS), POLICY) == "promote"


def test_more_passes_can_be_required() -> None:
    policy = CanaryPolicy(passes_to_promote=3)

    assert decide(streak_of(PASS, PASS), policy) == "hold"
    assert decide(streak_of(PASS, FAIL, PASS, PASS), policy) == "hold"
    assert decide(streak_of(PASS, PASS, INCONCLUSIVE, PASS), policy) == "promote"


def test_two_consecutive_failures_roll_back_with_both_reasons() -> None:
    second = CheckResult("fail", ("p95 latency 900 ms is 2.25x stable's 400 ms (more than 1.5x)",))
    streak = streak_of(FAIL, second)

    assert decide(streak, POLICY) == "roll_back"
    assert streak.failures == (FAIL.reasons, second.reasons)


def test_one_failure_holds() -> None:
    assert decide(streak_of(FAIL), POLICY) == "hold"


def test_a_failure_then_a_pass_promotes_and_does_not_roll_back() -> None:
    streak = streak_of(FAIL, PASS)

    assert streak == Streak(passes=1)
    assert decide(streak, POLICY) == "promote"
    assert decide(streak_of(FAIL, PASS), CanaryPolicy(passes_to_promote=2)) == "hold"


def test_failures_separated_by_a_pass_do_not_roll_back() -> None:
    policy = CanaryPolicy(passes_to_promote=5)

    assert decide(streak_of(FAIL, PASS, FAIL), policy) == "hold"


def test_an_inconclusive_check_between_failures_neither_breaks_nor_adds_to_them() -> None:
    assert decide(streak_of(FAIL, INCONCLUSIVE), POLICY) == "hold"
    assert decide(streak_of(FAIL, INCONCLUSIVE, FAIL), POLICY) == "roll_back"
