"""Reciprocal rank fusion, the pure function behind hybrid search's ranking."""

from __future__ import annotations

import pytest

from services.rag_retriever.fusion import reciprocal_rank_fusion


def test_scores_add_one_over_k_plus_position_across_rankings() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)

    assert [item for item, _ in fused] == ["a", "c", "b"]
    assert [score for _, score in fused] == pytest.approx([1 / 60 + 1 / 61, 1 / 62 + 1 / 60, 1 / 61])


def test_an_item_found_by_both_beats_the_top_of_one() -> None:
    fused = reciprocal_rank_fusion([["dense-only", "both"], ["keyword-only", "both"]], k=60)

    assert [item for item, _ in fused] == ["both", "dense-only", "keyword-only"]


def test_ties_keep_the_order_first_met() -> None:
    fused = reciprocal_rank_fusion([["x", "y"], ["y", "x"]], k=1)

    assert fused == [("x", 1.5), ("y", 1.5)]


def test_a_repeated_item_counts_once_per_ranking() -> None:
    fused = reciprocal_rank_fusion([["a", "a", "b"]], k=1)

    assert [item for item, _ in fused] == ["a", "b"]
    assert [score for _, score in fused] == pytest.approx([1.0, 1 / 3])


def test_weights_scale_each_ranking() -> None:
    fused = reciprocal_rank_fusion([["a"], ["b"]], k=10, weights=[1.0, 3.0])

    assert [item for item, _ in fused] == ["b", "a"]
    assert [score for _, score in fused] == pytest.approx([0.3, 0.1])


def test_limit_keeps_the_best() -> None:
    assert [item for item, _ in reciprocal_rank_fusion([[1, 2, 3, 4]], limit=2)] == [1, 2]


def test_nothing_to_fuse_gives_nothing() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        reciprocal_rank_fusion([["a"]], k=0)
    with pytest.raises(ValueError, match="1 weights for 2 rankings"):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])
