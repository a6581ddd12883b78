"""Population stability index and the two-sample Kolmogorov-Smirnov test, computed on value counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from .value_counts import ValueCounts

PSI_EPSILON = 1e-4
"""The share an empty bin is given, so a bin seen on one side only adds a large but finite term."""


def psi_bin_edges(reference: ValueCounts, bins: int = 10) -> npt.NDArray[np.float64]:
    """Inner bin edges at the reference's quantiles, so each bin holds about 1/bins of the reference.

    Integer data with heavy ties yields fewer, unique edges; the bins then follow the distinct values.
    """
    levels = np.arange(1, bins, dtype=np.float64) / bins
    return np.unique(reference.quantiles(levels))


def binned_shares(sample: ValueCounts, inner_edges: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The share of `sample` in each bin (-inf, e1], (e1, e2], ..., (ek, inf)."""
    cumulative = sample.cumulative_at(inner_edges)
    return np.diff(np.concatenate([[0.0], cumulative, [1.0]]))


def population_stability_index(reference: ValueCounts, current: ValueCounts, bins: int = 10) -> float:
    """PSI = sum((c - r) * ln(c / r)) over quantile bins of the reference.

    The usual reading: below 0.1 no shift, 0.1 to 0.25 a moderate one, above 0.25 a major one.
    """
    edges = psi_bin_edges(reference, bins)
    expected = np.clip(binned_shares(reference, edges), PSI_EPSILON, None)
    actual = np.clip(binned_shares(current, edges), PSI_EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class KsResult:
    """The KS statistic (the largest gap between the two empirical CDFs) and its asymptotic p-value."""

    statistic: float
    p_value: float


def kolmogorov_smirnov(reference: ValueCounts, current: ValueCounts) -> KsResult:
    """The two-sample KS test, exact on the counts: the CDFs are compared at every distinct value.

    The p-value is the asymptotic one (Kolmogorov's distribution at the effective sample size), which
    is what `scipy.stats.ks_2samp(method="asymp")` gives for the same samples; with ties it is
    conservative, as for any KS test on discrete data.
    """
    points = np.union1d(reference.values, current.values)
    statistic = float(np.max(np.abs(reference.cumulative_at(points) - current.cumulative_at(points))))
    n, m = reference.total, current.total
    effective = n * m / (n + m)
    p_value = float(stats.kstwo.sf(statistic, np.round(effective))) if effective >= 1 else 1.0
    if effective > 10_000:
        # kstwo's exact form is slow and no more exact than the limit this large.
        p_value = float(stats.kstwobign.sf(statistic * np.sqrt(effective)))
    return KsResult(statistic, min(1.0, max(0.0, p_value)))
