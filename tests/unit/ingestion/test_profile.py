"""Dataset profiles: token lengths, cleaning counts from the dataset's counters, and flat metric rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_common.pii.types import PiiType
from services.ingestion.datasets import Example
from services.ingestion.pipeline.outcomes import CleanRecord, Duplicate, DuplicateKind, Rejected, RejectReason
from services.ingestion.profile import build_profile, tallies_of, token_lengths
from services.ingestion.token_counting import TokenizerSettingError, WordTokenCounter, open_token_counter


def example(record_id: str, source: str, prompt: str, completion: str) -> Example:
    return Example(record_id, source, prompt, completion, None)


def test_the_word_tokenizer_counts_words_and_marks() -> None:
    assert WordTokenCounter().count(["Don't stop!", "", "two words"]) == [5, 0, 2]
    assert open_token_counter("words").name == "words"


def test_token_lengths_have_nearest_rank_percentiles_and_equal_width_bins() -> None:
    lengths = token_lengths("prompt", [1, 2, 3, 4, 40], bins=4)

    assert (lengths.min, lengths.max, lengths.mean, lengths.p50, lengths.p90, lengths.p99) == (1, 40, 10.0, 3, 40, 40)
    assert [(b.lower, b.upper, b.count) for b in lengths.histogram] == [
        (0, 11, 4),
        (11, 22, 0),
        (22, 33, 0),
        (33, 44, 1),
    ]
    assert token_lengths("total", []).histogram == []


def test_tallies_count_each_outcome_and_its_pii() -> None:
    clean = CleanRecord("r", "acme", "s", "example", "d", {}, "x", "y", prompt="p", completion="c")
    rejected = Rejected("r", "acme", "s", RejectReason.REPETITION, "why", {PiiType.EMAIL: 2})
    near = Duplicate("r", "acme", "s", DuplicateKind.NEAR, "d", 0.9)

    assert tallies_of(clean) == {"seen": 1, "accepted": 1}
    assert tallies_of(rejected) == {"seen": 1, "pii.EMAIL": 2, "rejected.repetition": 1}
    assert tallies_of(near) == {"seen": 1, "duplicates.near": 1}


def test_a_profile_describes_the_rows_and_the_cleaning_the_dataset_took() -> None:
    examples = [
        example("a", "chat", "How do I reset it?", "Open Settings."),
        example("b", "chat", "Where is billing?", "Under Account, then Billing."),
        example("c", "faq", "Hi", "Hello there."),
    ]
    counters = {"seen": 7, "accepted": 3, "duplicates.exact": 2, "rejected.empty": 1, "pii.PHONE": 1, "erased": 1}

    profile = build_profile(examples, counters, WordTokenCounter(), train_rows=2, eval_rows=1)

    assert (profile.rows, profile.train_rows, profile.eval_rows, profile.sources) == (3, 2, 1, 2)
    assert [(top.source, top.rows) for top in profile.top_sources] == [("chat", 2), ("faq", 1)]
    prompt, completion, total = profile.token_lengths
    assert (prompt.field, prompt.min, prompt.max) == ("prompt", 1, 6)
    assert (completion.min, completion.max) == (3, 6)
    assert (total.min, total.max) == (4, 10)
    assert (profile.records_seen, profile.exact_duplicates_removed, profile.near_duplicates_removed) == (7, 2, 0)
    assert profile.rejects == {reason.value: int(reason is RejectReason.EMPTY) for reason in RejectReason}
    assert profile.pii_hits == {kind.value: int(kind is PiiType.PHONE) for kind in PiiType}
    assert profile.examples_erased == 1
    rows = {(row.metric, row.key): row.value for row in profile.metric_rows()}
    assert rows["rows", "train"] == 2
    assert rows["rejects", "empty"] == 1
    assert rows["pii_hits", "PHONE"] == 1
    assert rows["tokens.total", "max"] == 10
    assert rows["source_rows", "chat"] == 2
    assert sum(v for (metric, _), v in rows.items() if metric == "tokens.prompt.histogram") == 3


def test_a_tokenizer_json_counts_the_models_own_tokens(tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    model = tokenizers.models.WordLevel({"[UNK]": 0, "hello": 1, "world": 2}, unk_token="[UNK]")  # noqa: S106 - a vocabulary token, not a password
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))

    counter = open_token_counter(str(tmp_path))

    assert counter.count(["hello world", "hello, brave new world"]) == [2, 5]
    assert counter.name == f"tokenizer.json:{tmp_path.name}"
    with pytest.raises(TokenizerSettingError):
        open_token_counter(str(tmp_path / "missing.json"))
