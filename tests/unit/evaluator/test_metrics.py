"""Per-example text metrics and retrieval metrics, on hand-checked pairs."""

from __future__ import annotations

import pytest

from services.evaluator.metrics import (
    LOWER_IS_BETTER,
    METRIC_NAMES,
    REPORTED_ONLY,
    TEXT_METRIC_NAMES,
    exact_match,
    example_scores,
    length_ratio,
    mean_scores,
    normalise_answer,
    retrieval_scores,
    token_f1,
)


def test_normalisation_drops_case_punctuation_articles_and_extra_whitespace() -> None:
    assert normalise_answer("  The Cat,  sat on a   MAT!\n") == "cat sat on mat"
    assert normalise_answer("An apple; the end.") == "apple end"
    # Articles only as whole words: "theory" and "another" keep their letters.
    assert normalise_answer("Theory of another") == "theory of another"


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("The Eiffel Tower.", "eiffel tower", 1.0),
        ("Eiffel Tower", "Eiffel", 0.0),
        ("", "", 1.0),
        ("Paris", "Paris, France", 0.0),
    ],
)
def test_exact_match_after_normalisation(prediction: str, reference: str, expected: float) -> None:
    assert exact_match(prediction, reference) == expected


def test_token_f1_on_known_pairs() -> None:
    # "cat sat on mat" against "cat sat on hat": 3 shared of 4 and 4, so P = R = F1 = 0.75.
    assert token_f1("the cat sat on the mat", "a cat sat on a hat") == pytest.approx(0.75)
    # Repeated words count once per occurrence: shared {red, blue} = 2, P = 2/3, R = 2/4, F1 = 4/7.
    assert token_f1("red red blue", "red blue blue green") == pytest.approx(4 / 7)
    assert token_f1("completely different", "nothing shared") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("something", "") == 0.0
    assert token_f1("", "something") == 0.0


def test_length_ratio_counts_whitespace_words() -> None:
    assert length_ratio("one two three", "one two") == 1.5
    assert length_ratio("", "one two") == 0.0
    assert length_ratio("", "") == 1.0
    assert length_ratio("one two", "") == 2.0


def test_identical_texts_score_full_marks() -> None:
    text = "The quick brown fox jumps over the lazy dog"
    assert example_scores(text, text) == {
        "exact_match": 1.0,
        "token_f1": 1.0,
        "rouge1": 1.0,
        "rouge2": 1.0,
        "rougeL": 1.0,
        "bleu": pytest.approx(100.0),
        "chrf": pytest.approx(100.0),
        "length_ratio": 1.0,
    }


def test_scores_of_a_partly_right_answer() -> None:
    scores = example_scores("hello there world", "hello world")
    assert list(scores) == list(TEXT_METRIC_NAMES)
    assert scores["exact_match"] == 0.0
    assert scores["token_f1"] == pytest.approx(0.8)
    # ROUGE-1 and ROUGE-L: P = 2/3, R = 1, F = 0.8; no shared bigram for ROUGE-2.
    assert scores["rouge1"] == pytest.approx(0.8)
    assert scores["rouge2"] == 0.0
    assert scores["rougeL"] == pytest.approx(0.8)
    assert 0.0 < scores["bleu"] < 100.0
    assert 0.0 < scores["chrf"] < 100.0
    assert scores["length_ratio"] == 1.5


def test_rouge_stems_words() -> None:
    scores = example_scores("cats running", "cat runs")
    assert scores["rouge1"] == 1.0
    assert scores["token_f1"] == 0.0


def test_bleu_and_chrf_of_unrelated_texts_are_zero() -> None:
    scores = example_scores("alpha beta gamma", "xyz")
    assert scores["bleu"] == 0.0
    assert scores["chrf"] == 0.0


def test_bleu_uses_effective_order_for_short_sentences() -> None:
    # Two words have no 3- or 4-grams; without effective order BLEU would be 0.
    assert example_scores("good morning", "good morning")["bleu"] == pytest.approx(100.0)


def test_metric_vocabulary() -> None:
    assert set(TEXT_METRIC_NAMES) < set(METRIC_NAMES)
    assert {"perplexity", "hit_at_k", "mrr"} < set(METRIC_NAMES)
    assert frozenset({"perplexity"}) == LOWER_IS_BETTER
    assert frozenset({"length_ratio"}) == REPORTED_ONLY


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "expected"),
    [
        (["d3", "d1", "d2"], {"d1"}, 3, {"hit_at_k": 1.0, "mrr": 0.5}),
        (["d1", "d2"], {"d1"}, 1, {"hit_at_k": 1.0, "mrr": 1.0}),
        (["d3", "d1", "d2"], {"d1"}, 1, {"hit_at_k": 0.0, "mrr": 0.0}),
        (["d3", "d1", "d2"], {"d2", "d1"}, 3, {"hit_at_k": 1.0, "mrr": 0.5}),
        (["d3", "d4", "d2"], ["d2"], 5, {"hit_at_k": 1.0, "mrr": pytest.approx(1 / 3)}),
        (["d3"], {"d9"}, 3, {"hit_at_k": 0.0, "mrr": 0.0}),
        ([], {"d9"}, 3, {"hit_at_k": 0.0, "mrr": 0.0}),
    ],
)
def test_retrieval_scores(ranked: list[str], relevant: set[str], k: int, expected: dict[str, float]) -> None:
    assert retrieval_scores(ranked, relevant, k) == expected


def test_retrieval_scores_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        retrieval_scores(["d1"], {"d1"}, 0)
    with pytest.raises(ValueError, match="at least one relevant document"):
        retrieval_scores(["d1"], set(), 3)


def test_mean_scores_averages_the_metrics_every_example_has() -> None:
    per_example = [
        {"token_f1": 1.0, "bleu": 50.0},
        {"token_f1": 0.5, "bleu": 0.0, "mrr": 1.0},
        {"token_f1": 0.0, "bleu": 10.0},
    ]
    assert mean_scores(per_example) == {"token_f1": 0.5, "bleu": 20.0}
    assert mean_scores([]) == {}
