"""PSI and KS on value counts, against known distributions and against scipy on raw samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from services.monitor.statistics.distribution_drift import kolmogorov_smirnov, population_stability_index
from services.monitor.statistics.value_counts import ValueCounts


def poisson_counts(mean: float, size: int, seed: int) -> ValueCounts:
    return ValueCounts.from_samples(np.random.default_rng(seed).poisson(mean, size))


def test_psi_of_two_samples_of_one_distribution_is_near_zero() -> None:
    assert population_stability_index(poisson_counts(40, 20_000, 1), poisson_counts(40, 20_000, 2)) < 0.01


def test_psi_of_a_shifted_mean_is_major() -> None:
    assert population_stability_index(poisson_counts(40, 20_000, 1), poisson_counts(60, 20_000, 2)) > 0.25


def test_psi_matches_the_textbook_formula_on_known_shares() -> None:
    # Reference: values 1..10 once each (deciles: one value a bin); current: all mass on 1 and 10.
    reference = ValueCounts.from_samples(range(1, 11))
    current = ValueCounts.from_mapping({1.0: 5, 10.0: 5})
    expected = 2 * (0.5 - 0.1) * np.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * np.log(1e-4 / 0.1)
    assert population_stability_index(reference, current) == pytest.approx(expected)


def test_ks_on_counts_equals_scipy_on_the_raw_samples() -> None:
    generator = np.random.default_rng(7)
    reference = generator.normal(0, 1, 3000).round(1)
    current = generator.normal(0.15, 1, 2000).round(1)

    result = kolmogorov_smirnov(ValueCounts.from_samples(reference), ValueCounts.from_samples(current))

    expected = stats.ks_2samp(reference, current, method="asymp")
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue, rel=0.05)


def test_ks_of_identical_counts_is_zero_with_p_value_one() -> None:
    sample = poisson_counts(30, 5000, 3)
    result = kolmogorov_smirnov(sample, sample)
    assert (result.statistic, result.p_value) == (0.0, 1.0)


def test_ks_detects_a_shift_with_a_tiny_p_value() -> None:
    result = kolmogorov_smirnov(poisson_counts(40, 5000, 1), poisson_counts(48, 5000, 2))
    assert result.statistic > 0.2
    assert result.p_value < 1e-10


def test_value_counts_merge_repeated_values() -> None:
    counts = ValueCounts.from_pairs([(3, 2), (1, 1), (3, 4)])
    assert counts.values.tolist() == [1.0, 3.0]
    assert counts.counts.tolist() == [1.0, 6.0]
    assert counts.cumulative_at(np.array([0.0, 1.0, 2.0, 3.0])).tolist() == [0.0, 1 / 7, 1 / 7, 1.0]
