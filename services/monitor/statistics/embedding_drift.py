"""Embedding drift: the cosine distance between two centroids, and MMD with a permutation p-value.

These are the methods Evidently documents for embedding drift. MMD uses a Gaussian kernel whose width
is the median pairwise distance of the pooled sample (the usual heuristic), and its p-value is the share
of random relabellings of the pooled sample whose MMD is at least the observed one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32] | npt.NDArray[np.float64]


def centroid_cosine_distance(reference: Matrix, current: Matrix) -> float:
    """1 - cosine similarity of the two mean vectors: 0 when they point the same way."""
    a = np.asarray(reference, dtype=np.float64).mean(axis=0)
    b = np.asarray(current, dtype=np.float64).mean(axis=0)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        return 0.0
    return float(1.0 - np.dot(a, b) / norms)


@dataclass(frozen=True)
class MmdResult:
    """The squared MMD (biased estimate) and its permutation p-value."""

    mmd2: float
    p_value: float
    permutations: int


def _gaussian_kernel(pooled: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    squared_norms = np.sum(pooled * pooled, axis=1)
    distances = np.maximum(squared_norms[:, None] + squared_norms[None, :] - 2.0 * pooled @ pooled.T, 0.0)
    off_diagonal = distances[np.triu_indices_from(distances, k=1)]
    bandwidth = float(np.median(off_diagonal)) if off_diagonal.size else 1.0
    kernel: npt.NDArray[np.float64] = np.exp(-distances / (bandwidth if bandwidth > 0 else 1.0))
    return kernel


def _mmd2(kernel: npt.NDArray[np.float64], in_first: npt.NDArray[np.bool_]) -> float:
    # MMD^2 = w' K w with w = 1/n on the first sample and -1/m on the second: one product a permutation.
    n = int(in_first.sum())
    weights = np.where(in_first, 1.0 / n, -1.0 / (len(in_first) - n))
    return float(weights @ kernel @ weights)


def mmd_permutation_test(reference: Matrix, current: Matrix, *, permutations: int = 200, seed: int = 0) -> MmdResult:
    """MMD between the samples and the share of `permutations` relabellings at least as large.

    The p-value counts the observed labelling as one permutation, so it is never 0: (hits + 1) / (P + 1).
    A fixed `seed` makes a run repeatable, so a detector gives the same answer for the same windows.
    """
    pooled = np.concatenate([np.asarray(reference, np.float64), np.asarray(current, np.float64)])
    kernel = _gaussian_kernel(pooled)
    labels = np.zeros(len(pooled), dtype=bool)
    labels[: len(reference)] = True
    observed = _mmd2(kernel, labels)
    generator = np.random.default_rng(seed)
    hits = sum(_mmd2(kernel, generator.permutation(labels)) >= observed for _ in range(permutations))
    return MmdResult(observed, (hits + 1) / (permutations + 1), permutations)
