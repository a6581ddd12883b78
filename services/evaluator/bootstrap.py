"""Paired bootstrap intervals of candidate-minus-baseline metric differences.

Both models answer the same examples, so each example gives one difference; resampling examples (not
models) keeps the pairing and cancels the examples' own difficulty out of the interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from llmops_common.events.training import MetricDelta

MIN_RESAMPLES = 1000
"""Fewer resamples make the interval's ends jump from seed to seed."""


def resample_indices(examples: int, *, resamples: int = 1000, seed: int = 0) -> npt.NDArray[np.int64]:
    """A `resamples` x `examples` matrix of example indices drawn with replacement, the same for a seed."""
    if examples < 1:
        raise ValueError("the bootstrap needs at least one example")
    if resamples < MIN_RESAMPLES:
        raise ValueError(f"the bootstrap needs at least {MIN_RESAMPLES} resamples, not {resamples}")
    return np.random.default_rng(seed).integers(0, examples, size=(resamples, examples), dtype=np.int64)


def _interval(differences: npt.NDArray[np.float64], indices: npt.NDArray[np.int64], confidence: float) -> MetricDelta:
    resampled_means = differences[indices].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(resampled_means, [tail, 1.0 - tail])
    return MetricDelta(mean=float(differences.mean()), low=float(low), high=float(high))


def _differences(candidate: Sequence[float], baseline: Sequence[float]) -> npt.NDArray[np.float64]:
    if len(candidate) != len(baseline):
        raise ValueError(f"paired scores need as many candidate ({len(candidate)}) as baseline ({len(baseline)})")
    if not candidate:
        raise ValueError("the bootstrap needs at least one example")
    return np.asarray(candidate, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")


def paired_bootstrap(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> MetricDelta:
    """The mean of `candidate - baseline` per example, with the percentile interval of the mean over
    `resamples` resamples of the examples (the same interval for the same seed).

    Raises ValueError on unequal lengths, no examples, fewer than 1000 resamples, or a confidence
    outside (0, 1). Memory grows as resamples x examples x 16 bytes.
    """
    _check_confidence(confidence)
    differences = _differences(candidate, baseline)
    indices = resample_indices(len(differences), resamples=resamples, seed=seed)
    return _interval(differences, indices, confidence)


def paired_deltas(
    candidate: Sequence[Mapping[str, float]],
    baseline: Sequence[Mapping[str, float]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, MetricDelta]:
    """`paired_bootstrap` of every metric that each candidate and baseline example has, keyed by metric.

    All metrics share one resample matrix, so each equals `paired_bootstrap` with the same seed, and
    the intervals of different metrics come from the same resampled example sets.
    """
    _check_confidence(confidence)
    if len(candidate) != len(baseline):
        raise ValueError(f"paired scores need as many candidate ({len(candidate)}) as baseline ({len(baseline)})")
    if not candidate:
        raise ValueError("the bootstrap needs at least one example")
    names = [name for name in candidate[0] if all(name in row for rows in (candidate, baseline) for row in rows)]
    indices = resample_indices(len(candidate), resamples=resamples, seed=seed)
    return {
        name: _interval(
            _differences([row[name] for row in candidate], [row[name] for row in baseline]), indices, confidence
        )
        for name in names
    }
