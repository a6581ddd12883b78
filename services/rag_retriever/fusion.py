"""Reciprocal rank fusion: one ranking out of several, by rank alone, so unlike scores need no calibration."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_RRF_K = 60
"""The constant of Cormack et al. (2009): it damps the lead of the very top ranks."""


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]],
    *,
    k: int = DEFAULT_RRF_K,
    limit: int | None = None,
    weights: Sequence[float] | None = None,
) -> list[tuple[K, float]]:
    """The items of `rankings` (each best first) with their fused scores, best first.

    An item scores `weight / (k + position)` in each ranking it appears in, with positions counted
    from 0, and those add up. That is Qdrant's convention, so this function and the stores' own
    `Fusion.RRF` rank alike for the same `k` (it equals the textbook `1 / (k' + rank)` with ranks
    from 1 and k' = k - 1). Only an item's first appearance in a ranking counts. Ties keep the order
    in which the items were first met, walking the rankings in turn.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if weights is not None and len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[K, float] = {}
    for number, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[number]
        seen: set[K] = set()
        for position, item in enumerate(ranking):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + position)
    fused = sorted(scores.items(), key=lambda entry: entry[1], reverse=True)
    return fused if limit is None else fused[:limit]
