"""Quality filters on the redacted text: too few words, too many symbols, too much repetition."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from .config import PipelineSettings
from .content import RecordContent
from .outcomes import Rejection, RejectReason

_SYMBOL_RUN = re.compile(r"(?:[^\w\s]|_)+")
_ASCII_WORD_OR_SPACE = (string.ascii_letters + string.digits + string.whitespace).encode()
MIN_NGRAM_REPEATS = 3
"""A word n-gram must occur this often to count as repetition: "thank you, thank you" is speech."""


def check_quality(content: RecordContent, settings: PipelineSettings) -> Rejection | None:
    """The first quality filter that `content` fails, in the order words, symbols, repetition; or None.

    Words are separated by whitespace, so a placeholder such as `[EMAIL]` is one word. Repetition is
    judged per segment, so that a chat turn that echoes the user's is not held against the example.
    """
    words = [segment.text.lower().split() for segment in content.segments]
    count = sum(map(len, words))
    floor = settings.min_words if content.shape == "document" else settings.min_words_example
    if count < floor:
        return Rejection(RejectReason.TOO_FEW_WORDS, f"{count} words < {floor}")
    if (ratio := symbol_ratio(content.joined())) > settings.max_symbol_ratio:
        return Rejection(RejectReason.SYMBOL_RATIO, f"symbol ratio {ratio:.2f} > {settings.max_symbol_ratio:g}")
    for segment, segment_words in zip(content.segments, words, strict=True):
        if problem := _repetition(segment.text, segment_words, settings):
            return Rejection(RejectReason.REPETITION, problem)
    return None


def symbol_ratio(text: str) -> float:
    """The share of characters of `text` that are neither alphanumeric nor whitespace."""
    if not text:
        return 0.0
    if text.isascii():
        # Deleting the letters, digits and whitespace leaves the symbols, at C speed.
        return len(text.encode().translate(None, _ASCII_WORD_OR_SPACE)) / len(text)
    return sum(map(len, _SYMBOL_RUN.findall(text))) / len(text)


def duplicate_line_fraction(text: str) -> float:
    """The share of non-blank lines that repeat an earlier line."""
    lines = [line for line in text.split("\n") if line]
    if len(lines) < 2:
        return 0.0
    return (len(lines) - len(set(lines))) / len(lines)


def top_ngram_fraction(words: Sequence[str], n: int) -> float:
    """The share of words covered by the most frequent word n-gram, when it occurs 3 times or more."""
    if len(words) < n * MIN_NGRAM_REPEATS:
        return 0.0
    ngrams = Counter(zip(*(words[offset:] for offset in range(n)), strict=False))
    top = max(ngrams.values())
    return 0.0 if top < MIN_NGRAM_REPEATS else min(1.0, top * n / len(words))


def _repetition(text: str, words: Sequence[str], settings: PipelineSettings) -> str | None:
    limit = settings.max_repetition
    if (lines := duplicate_line_fraction(text)) > limit:
        return f"duplicate lines {lines:.2f} > {limit:g}"
    n = settings.repetition_ngram
    if (covered := top_ngram_fraction(words, n)) > limit:
        return f"top {n}-gram covers {covered:.2f} of words > {limit:g}"
    return None
