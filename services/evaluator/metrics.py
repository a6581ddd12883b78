"""Per-example metrics of a generated answer against its reference, and of a ranking against labelled documents.

Every metric here is higher-is-better except those in `LOWER_IS_BETTER`; `length_ratio` has no direction
(closer to 1 is better), so it is reported but never gated on (`REPORTED_ONLY`).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

TEXT_METRIC_NAMES: tuple[str, ...] = (
    "exact_match",
    "token_f1",
    "rouge1",
    "rouge2",
    "rougeL",
    "bleu",
    "chrf",
    "length_ratio",
)
"""The keys of `example_scores`, in the order reports list them."""

RETRIEVAL_METRIC_NAMES: tuple[str, ...] = ("hit_at_k", "mrr")
"""The keys of `retrieval_scores`."""

METRIC_NAMES: tuple[str, ...] = (*TEXT_METRIC_NAMES, "perplexity", *RETRIEVAL_METRIC_NAMES)
"""The evaluator's whole metric vocabulary, in display order; perplexity comes from `perplexity.py`."""

LOWER_IS_BETTER: frozenset[str] = frozenset({"perplexity"})
"""Metrics where a smaller value is the better one; the gate flips its signs for them."""

REPORTED_ONLY: frozenset[str] = frozenset({"length_ratio"})
"""Metrics without a better direction (closer to 1 is better): shown in reports, refused by the gate."""

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise_answer(text: str) -> str:
    """SQuAD's answer normalisation: lowercase, drop punctuation and English articles, collapse whitespace."""
    without_punctuation = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", without_punctuation).split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when both normalise to the same text, else 0.0."""
    return float(normalise_answer(prediction) == normalise_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's token F1 over normalised words; 1.0 when both are empty, 0.0 when only one is."""
    predicted = normalise_answer(prediction).split()
    expected = normalise_answer(reference).split()
    if not predicted or not expected:
        return float(predicted == expected)
    shared = sum((Counter(predicted) & Counter(expected)).values())
    if shared == 0:
        return 0.0
    precision = shared / len(predicted)
    recall = shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def length_ratio(prediction: str, reference: str) -> float:
    """Prediction words over reference words (whitespace-split).

    Two empty texts have the same length (1.0). Against an empty reference, a prediction scores its own
    word count, as if the reference had one word: the value stays finite (JSON has no infinity) and
    still grows with the excess.
    """
    predicted = len(prediction.split())
    expected = len(reference.split())
    if expected == 0:
        return 1.0 if predicted == 0 else float(predicted)
    return predicted / expected


@cache
def _rouge_scorer() -> Any:
    # Built once: the scorer loads its stemmer and tokenizer, which costs more than scoring a pair.
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


@cache
def _sacrebleu_metrics() -> tuple[Any, Any]:
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    # Effective order: a short sentence without any 4-gram match still gets a BLEU above zero.
    return BLEU(effective_order=True), CHRF()


def example_scores(prediction: str, reference: str) -> dict[str, float]:
    """Every text metric of one prediction against its reference, keyed as in `TEXT_METRIC_NAMES`.

    `exact_match` and `token_f1` are SQuAD's (0-1, on normalised text); `rouge1`, `rouge2` and `rougeL` are
    rouge-score's F-measures with Porter stemming (0-1); `bleu` (sentence BLEU, effective order) and `chrf`
    are sacrebleu's and keep sacrebleu's 0-100 scale; `length_ratio` is from `length_ratio`.
    """
    rouge = _rouge_scorer().score(reference, prediction)
    bleu, chrf = _sacrebleu_metrics()
    return {
        "exact_match": exact_match(prediction, reference),
        "token_f1": token_f1(prediction, reference),
        "rouge1": float(rouge["rouge1"].fmeasure),
        "rouge2": float(rouge["rouge2"].fmeasure),
        "rougeL": float(rouge["rougeL"].fmeasure),
        "bleu": float(bleu.sentence_score(prediction, [reference]).score),
        "chrf": float(chrf.sentence_score(prediction, [reference]).score),
        "length_ratio": length_ratio(prediction, reference),
    }


def retrieval_scores(ranked_doc_ids: Sequence[str], relevant_doc_ids: Collection[str], k: int) -> dict[str, float]:
    """`hit_at_k` (1.0 when a relevant document is in the top `k`) and `mrr` (1/rank of the first relevant
    document in the top `k`, 0.0 when there is none) of one labelled query."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if not relevant_doc_ids:
        raise ValueError("a labelled query needs at least one relevant document")
    for rank, doc_id in enumerate(ranked_doc_ids[:k], start=1):
        if doc_id in relevant_doc_ids:
            return {"hit_at_k": 1.0, "mrr": 1.0 / rank}
    return {"hit_at_k": 0.0, "mrr": 0.0}


def mean_scores(per_example: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean of each metric that every example has (a metric only some have would average different
    examples than its neighbours); no examples give no means."""
    if not per_example:
        return {}
    shared = [name for name in per_example[0] if all(name in scores for scores in per_example)]
    return {name: math.fsum(scores[name] for scores in per_example) / len(per_example) for name in shared}
