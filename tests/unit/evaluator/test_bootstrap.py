"""Paired bootstrap intervals: exact means, determinism, and intervals that find a real shift."""

from __future__ import annotations

import numpy as np
import pytest

from llmops_common.events.training import MetricDelta
from services.evaluator.bootstrap import paired_bootstrap, paired_deltas, resample_indices


def _scores(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=n)


def test_mean_is_the_mean_paired_difference() -> None:
    delta = paired_bootstrap([1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0])
    assert delta.mean == pytest.approx(2.5)
    assert 1.0 <= delta.low <= delta.mean <= delta.high <= 4.0


def test_a_constant_difference_has_no_spread() -> None:
    assert paired_bootstrap([0.5, 0.75, 1.0], [0.25, 0.5, 0.75]) == MetricDelta(mean=0.25, low=0.25, high=0.25)


def test_same_seed_same_interval_other_seed_other_interval() -> None:
    candidate, baseline = _scores(50, 1), _scores(50, 2)
    first = paired_bootstrap(list(candidate), list(baseline), seed=7)
    assert paired_bootstrap(list(candidate), list(baseline), seed=7) == first
    other = paired_bootstrap(list(candidate), list(baseline), seed=8)
    assert other.mean == first.mean
    assert (other.low, other.high) != (first.low, first.high)


def test_a_clear_shift_is_covered_and_excludes_zero() -> None:
    baseline = _scores(200, 3)
    noise = np.random.default_rng(4).normal(0.0, 0.05, size=200)
    candidate = baseline + 0.1 + noise
    delta = paired_bootstrap(list(candidate), list(baseline))
    assert delta.low > 0.0
    assert delta.low < 0.1 < delta.high
    assert delta.high - delta.low < 0.05


def test_no_shift_covers_zero() -> None:
    # Differences alternate +1 and -1: a mean of exactly 0, and an interval around it.
    baseline = [0.5] * 100
    candidate = [1.5 if i % 2 else -0.5 for i in range(100)]
    delta = paired_bootstrap(candidate, baseline)
    assert delta.mean == 0.0
    assert delta.low < 0.0 < delta.high


def test_higher_confidence_widens_the_interval() -> None:
    candidate, baseline = list(_scores(60, 5)), list(_scores(60, 6))
    narrow = paired_bootstrap(candidate, baseline, confidence=0.8)
    wide = paired_bootstrap(candidate, baseline, confidence=0.99)
    assert wide.low < narrow.low
    assert wide.high > narrow.high


def test_percentile_interval_of_the_resampled_means() -> None:
    candidate, baseline = _scores(30, 9), _scores(30, 10)
    differences = candidate - baseline
    means = differences[resample_indices(30, resamples=2000, seed=3)].mean(axis=1)
    expected = np.quantile(means, [0.025, 0.975])
    delta = paired_bootstrap(list(candidate), list(baseline), resamples=2000, seed=3)
    assert delta.low == pytest.approx(expected[0])
    assert delta.high == pytest.approx(expected[1])


def test_resample_indices_shape_and_range() -> None:
    indices = resample_indices(7, resamples=1000, seed=0)
    assert indices.shape == (1000, 7)
    assert indices.min() >= 0
    assert indices.max() <= 6
    assert (resample_indices(7, resamples=1000, seed=0) == indices).all()


@pytest.mark.parametrize(
    ("candidate", "baseline", "options", "message"),
    [
        ([1.0, 2.0], [1.0], {}, r"as many candidate \(2\) as baseline \(1\)"),
        ([], [], {}, "at least one example"),
        ([1.0], [0.0], {"resamples": 999}, "at least 1000 resamples, not 999"),
        ([1.0], [0.0], {"confidence": 1.0}, "strictly between 0 and 1"),
    ],
)
def test_refuses_bad_input(
    candidate: list[float], baseline: list[float], options: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(candidate, baseline, **options)  # type: ignore[arg-type]


def test_paired_deltas_covers_the_metrics_both_sides_have() -> None:
    candidate = [{"token_f1": 0.9, "bleu": 40.0, "only_candidate": 1.0} for _ in range(5)]
    baseline = [{"bleu": 30.0, "token_f1": 0.5} for _ in range(5)]
    deltas = paired_deltas(candidate, baseline)
    assert list(deltas) == ["token_f1", "bleu"]
    f1 = deltas["token_f1"]
    assert (f1.mean, f1.low, f1.high) == pytest.approx((0.4, 0.4, 0.4))
    assert deltas["bleu"] == MetricDelta(mean=10.0, low=10.0, high=10.0)


def test_paired_deltas_equal_paired_bootstrap_per_metric() -> None:
    rng = np.random.default_rng(11)
    candidate = [{"a": float(x), "b": float(y)} for x, y in rng.uniform(size=(40, 2))]
    baseline = [{"a": float(x), "b": float(y)} for x, y in rng.uniform(size=(40, 2))]
    deltas = paired_deltas(candidate, baseline, resamples=1500, seed=4)
    for name in ("a", "b"):
        alone = paired_bootstrap([r[name] for r in candidate], [r[name] for r in baseline], resamples=1500, seed=4)
        assert deltas[name] == alone


def test_paired_deltas_refuses_unpaired_input() -> None:
    with pytest.raises(ValueError, match="as many candidate"):
        paired_deltas([{"a": 1.0}], [])
    with pytest.raises(ValueError, match="at least one example"):
        paired_deltas([], [])
