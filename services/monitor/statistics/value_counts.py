"""A sample held as distinct values and their counts, the shape a ClickHouse `GROUP BY value` returns.

Token counts and output lengths have few distinct values compared with the rows behind them, so the
detectors ship counts out of ClickHouse, never rows, and the statistics work on the counts exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ValueCounts:
    """Distinct values in ascending order, with how often each occurred."""

    values: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[float, float]]) -> ValueCounts:
        """From (value, count) pairs in any order; a value given twice has its counts added."""
        merged: dict[float, float] = {}
        for value, count in pairs:
            merged[float(value)] = merged.get(float(value), 0.0) + float(count)
        ordered = sorted(merged.items())
        return cls(
            np.array([value for value, _ in ordered], dtype=np.float64),
            np.array([count for _, count in ordered], dtype=np.float64),
        )

    @classmethod
    def from_mapping(cls, counts: Mapping[float, float]) -> ValueCounts:
        """From a {value: count} mapping."""
        return cls.from_pairs(counts.items())

    @classmethod
    def from_samples(cls, samples: Iterable[float]) -> ValueCounts:
        """From raw observations."""
        values, counts = np.unique(np.asarray(list(samples), dtype=np.float64), return_counts=True)
        return cls(values, counts.astype(np.float64))

    @property
    def total(self) -> float:
        """How many observations the counts stand for."""
        return float(self.counts.sum())

    def cumulative_at(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The empirical CDF, P(X <= point), at each point."""
        cumulative = np.concatenate([[0.0], np.cumsum(self.counts)])
        index = np.searchsorted(self.values, points, side="right")
        return cumulative[index] / self.total

    def quantiles(self, levels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The smallest value whose empirical CDF reaches each level (the inverse CDF)."""
        cumulative = np.cumsum(self.counts) / self.total
        index = np.searchsorted(cumulative, levels, side="left")
        found: npt.NDArray[np.float64] = self.values[np.minimum(index, len(self.values) - 1)]
        return found
