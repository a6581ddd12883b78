"""The EDA profile of a dataset version: row counts, token lengths, and the cleaning the dataset took.

Lengths come from the version's rows; the cleaning counts (PII hits, rejects, duplicates, erasures)
from the dataset's counters, which the service adds to as records for the dataset come through the
pipeline (`tallies_of`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from llmops_common.events.dataset_profile import DatasetProfile, HistogramBin, LengthField, SourceRows, TokenLengths
from llmops_common.pii.types import PiiType

from .datasets import Example
from .pipeline.outcomes import CleanRecord, Duplicate, DuplicateKind, Outcome, Rejected, RejectReason
from .token_counting import TokenCounter

HISTOGRAM_BINS = 20
TOP_SOURCES = 10


def tallies_of(outcome: Outcome) -> dict[str, int]:
    """What one record adds to its dataset's counters."""
    tallies = {"seen": 1, **{f"pii.{kind.value}": count for kind, count in outcome.pii_hits.items()}}
    match outcome:
        case CleanRecord():
            tallies["accepted"] = 1
        case Rejected(reason=reason):
            tallies[f"rejected.{reason.value}"] = 1
        case Duplicate(kind=DuplicateKind.EXACT):
            tallies["duplicates.exact"] = 1
        case Duplicate():
            tallies["duplicates.near"] = 1
    return tallies


def build_profile(
    examples: Sequence[Example],
    counters: Mapping[str, int],
    tokens: TokenCounter,
    *,
    train_rows: int,
    eval_rows: int,
) -> DatasetProfile:
    """The profile of a version's `examples`, given the dataset's counters."""
    sources = Counter(example.source for example in examples)
    prompts = tokens.count([_prompt_text(example) for example in examples])
    completions = tokens.count([_completion_text(example) for example in examples])
    totals = [p + c for p, c in zip(prompts, completions, strict=True)]
    return DatasetProfile(
        tokenizer=tokens.name,
        rows=len(examples),
        train_rows=train_rows,
        eval_rows=eval_rows,
        sources=len(sources),
        top_sources=[
            SourceRows(source=source, rows=rows)
            for source, rows in sorted(sources.items(), key=lambda item: (-item[1], item[0]))[:TOP_SOURCES]
        ],
        token_lengths=[
            token_lengths("prompt", prompts),
            token_lengths("completion", completions),
            token_lengths("total", totals),
        ],
        records_seen=counters.get("seen", 0),
        exact_duplicates_removed=counters.get("duplicates.exact", 0),
        near_duplicates_removed=counters.get("duplicates.near", 0),
        pii_hits={kind.value: counters.get(f"pii.{kind.value}", 0) for kind in PiiType},
        rejects={reason.value: counters.get(f"rejected.{reason.value}", 0) for reason in RejectReason},
        examples_erased=counters.get("erased", 0),
    )


def token_lengths(field: LengthField, lengths: Sequence[int], bins: int = HISTOGRAM_BINS) -> TokenLengths:
    """The distribution of `lengths`: extremes, mean, nearest-rank percentiles, equal-width histogram."""
    if not lengths:
        return TokenLengths(field=field, min=0, max=0, mean=0.0, p50=0, p90=0, p99=0, histogram=[])
    ordered = sorted(lengths)
    width = max(1, math.ceil((ordered[-1] + 1) / bins))
    counts = Counter(length // width for length in ordered)
    return TokenLengths(
        field=field,
        min=ordered[0],
        max=ordered[-1],
        mean=round(sum(ordered) / len(ordered), 3),
        p50=_percentile(ordered, 0.5),
        p90=_percentile(ordered, 0.9),
        p99=_percentile(ordered, 0.99),
        histogram=[
            HistogramBin(lower=b * width, upper=(b + 1) * width, count=counts.get(b, 0))
            for b in range(ordered[-1] // width + 1)
        ],
    )


def _percentile(ordered: Sequence[int], share: float) -> int:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _prompt_text(example: Example) -> str:
    if example.messages is None:
        return example.prompt or ""
    return "\n".join(content for role, content in example.messages if role != "assistant")


def _completion_text(example: Example) -> str:
    if example.messages is None:
        return example.completion or ""
    return "\n".join(content for role, content in example.messages if role == "assistant")
