"""The pipeline's thresholds and switches, in one frozen dataclass with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RedactorEngine = Literal["auto", "regex", "presidio"]
"""`auto` uses Presidio when `presidio_analyzer` is importable, and the regex redactor otherwise."""


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Every threshold of the pipeline; the defaults are the ones the issue names.

    Memory: the dedup index keeps, per kept record, a 32-byte content digest and, with near-dup on,
    a MinHash signature (`num_perm` x 4 bytes) and one bucket entry per LSH band: about 2.4 KB per
    kept record at the defaults, 300 bytes with near-dup off. `max_indexed_records` caps it; the
    oldest records are then forgotten, so a duplicate of a record older than the last
    `max_indexed_records` kept ones passes.
    """

    max_chars: int = 100_000
    """A record whose normalised content is longer is rejected as `too_long`."""
    min_words: int = 3
    """Documents with fewer whitespace-separated words are rejected as `too_few_words`."""
    min_words_example: int = 1
    """The same floor for examples, where a one-word completion ("Yes.") is legitimate."""
    max_symbol_ratio: float = 0.3
    """The highest share of characters that are neither alphanumeric nor whitespace."""
    max_repetition: float = 0.3
    """The highest share of duplicate lines, and of words covered by the most repeated word n-gram."""
    repetition_ngram: int = 2
    """The n of the repeated word n-gram measure."""
    near_dedup: bool = True
    """Off, only exact duplicates are dropped."""
    shingle_size: int = 5
    """Near-dup compares sets of word n-grams of this size (shorter texts are one shingle)."""
    near_dup_threshold: float = 0.8
    """Estimated Jaccard similarity of the shingle sets at or above which a record is a near-dup."""
    num_perm: int = 128
    """MinHash permutations: the estimate's standard error is about sqrt(J(1-J)/num_perm)."""
    lsh_bands: int | None = None
    """LSH bands; None picks the fewest that find 98% of the pairs at the threshold."""
    minhash_seed: int = 1
    max_indexed_records: int | None = None
    """Cap on the records the dedup index remembers (oldest evicted first); None keeps all."""
    pii_engine: RedactorEngine = "auto"

    def __post_init__(self) -> None:
        problems = [
            name
            for name, ok in (
                ("max_chars", self.max_chars >= 1),
                ("min_words", self.min_words >= 0),
                ("min_words_example", self.min_words_example >= 0),
                ("max_symbol_ratio", 0.0 <= self.max_symbol_ratio <= 1.0),
                ("max_repetition", 0.0 <= self.max_repetition <= 1.0),
                ("repetition_ngram", self.repetition_ngram >= 1),
                ("shingle_size", self.shingle_size >= 1),
                ("near_dup_threshold", 0.0 < self.near_dup_threshold <= 1.0),
                ("num_perm", self.num_perm >= 2),
                ("lsh_bands", self.lsh_bands is None or 2 <= self.lsh_bands <= self.num_perm),
                ("max_indexed_records", self.max_indexed_records is None or self.max_indexed_records >= 1),
            )
            if not ok
        ]
        if problems:
            raise ValueError(f"invalid pipeline settings: {', '.join(problems)}")
