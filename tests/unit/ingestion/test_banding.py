"""The LSH index finds signatures that agree on a band, and reports only those at the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from services.ingestion.pipeline.banding import BLOCK_ROWS, NearDuplicateIndex, choose_bands


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    return float(1 - (1 - similarity**rows) ** bands)


def test_default_bands_find_98_percent_of_pairs_at_the_threshold() -> None:
    bands, rows = choose_bands(0.8, 128)

    assert (bands, rows) == (17, 7)
    assert candidate_probability(0.8, bands, rows) >= 0.98
    assert candidate_probability(0.85, bands, rows) > 0.998
    assert candidate_probability(0.3, bands, rows) < 0.005


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.5, 64), (0.9, 128), (0.95, 256), (1.0, 16)])
def test_chosen_bands_meet_the_recall_target(threshold: float, num_perm: int) -> None:
    bands, rows = choose_bands(threshold, num_perm)

    assert bands * rows <= num_perm
    assert candidate_probability(threshold, bands, rows) >= 0.98


def signature_like(base: np.ndarray, agreeing: int) -> np.ndarray:
    """A copy of `base` that agrees with it in exactly its first `agreeing` places."""
    other = base.copy()
    other[agreeing:] += np.uint32(1)
    return other


BASE = np.arange(128, dtype=np.uint32) * 7919


def test_a_similar_signature_is_found_with_its_similarity() -> None:
    index = NearDuplicateIndex(num_perm=128, threshold=0.8)
    index.add(3, BASE, scope=0)

    assert index.find(signature_like(BASE, 120), scope=0) == (3, 120 / 128)
    assert index.find(signature_like(BASE, 90), scope=0) is None


def test_other_scopes_and_the_excluded_slot_are_never_reported() -> None:
    index = NearDuplicateIndex(num_perm=128, threshold=0.8)
    index.add(0, BASE, scope=0)

    assert index.find(BASE, scope=1) is None
    assert index.find(BASE, scope=0, exclude=0) is None


def test_the_most_similar_of_several_candidates_wins() -> None:
    index = NearDuplicateIndex(num_perm=128, threshold=0.8)
    index.add(1, signature_like(BASE, 110), scope=0)
    index.add(BLOCK_ROWS + 5, signature_like(BASE, 125), scope=0)

    assert index.find(BASE, scope=0) == (BLOCK_ROWS + 5, 125 / 128)
    assert len(index) == 2


def test_a_discarded_slot_is_forgotten_and_others_stay() -> None:
    index = NearDuplicateIndex(num_perm=128, threshold=0.8)
    index.add(1, BASE, scope=0)
    index.add(2, signature_like(BASE, 127), scope=0)

    index.discard(1)
    index.discard(1)
    index.discard(99)

    assert index.find(BASE, scope=0) == (2, 127 / 128)
    index.discard(2)
    assert index.find(BASE, scope=0) is None
    assert len(index) == 0
