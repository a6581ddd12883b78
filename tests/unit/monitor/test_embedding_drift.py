"""Centroid cosine distance and the MMD permutation test on Gaussian clouds with known shifts."""

from __future__ import annotations

import numpy as np
import pytest

from services.monitor.statistics.embedding_drift import centroid_cosine_distance, mmd_permutation_test


def cloud(center: np.ndarray, size: int, seed: int, spread: float = 0.3) -> np.ndarray:
    return center + np.random.default_rng(seed).normal(0, spread, (size, len(center)))


def test_centroid_distance_of_orthogonal_means_is_one_and_of_equal_means_zero() -> None:
    x, y = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 2.0]])
    assert centroid_cosine_distance(x, y) == pytest.approx(1.0)
    assert centroid_cosine_distance(x, 3 * x) == pytest.approx(0.0)


def test_mmd_between_samples_of_one_distribution_is_not_significant() -> None:
    center = np.ones(16)
    result = mmd_permutation_test(cloud(center, 80, 1), cloud(center, 80, 2), permutations=200)
    assert result.p_value > 0.05


def test_mmd_detects_a_shifted_cloud() -> None:
    center = np.ones(16)
    shifted = center + np.eye(16)[0] * 1.0
    result = mmd_permutation_test(cloud(center, 80, 1), cloud(shifted, 80, 2), permutations=200)
    assert result.p_value == pytest.approx(1 / 201)
    assert result.mmd2 > 0


def test_mmd_is_repeatable_for_a_seed() -> None:
    center = np.zeros(8)
    a, b = cloud(center, 40, 1), cloud(center, 40, 2)
    assert mmd_permutation_test(a, b, seed=3) == mmd_permutation_test(a, b, seed=3)
