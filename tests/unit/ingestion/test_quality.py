"""Quality filters reject too few words, too many symbols and repetition, each with its reason code."""

from __future__ import annotations

import pytest

from services.ingestion.pipeline.config import PipelineSettings
from services.ingestion.pipeline.content import RecordContent, Segment
from services.ingestion.pipeline.outcomes import Rejection, RejectReason
from services.ingestion.pipeline.quality import (
    check_quality,
    duplicate_line_fraction,
    symbol_ratio,
    top_ngram_fraction,
)

SETTINGS = PipelineSettings()


def document(text: str) -> RecordContent:
    return RecordContent("document", (Segment("text", text),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two words", Rejection(RejectReason.TOO_FEW_WORDS, "2 words < 3")),
        ("a {} [] () <> ;; b", Rejection(RejectReason.SYMBOL_RATIO, "symbol ratio 0.56 > 0.3")),
        ("same line\nother line\nsame line", Rejection(RejectReason.REPETITION, "duplicate lines 0.33 > 0.3")),
        (
            "click here click here click here now",
            Rejection(RejectReason.REPETITION, "top 2-gram covers 0.86 of words > 0.3"),
        ),
    ],
)
def test_low_quality_documents_are_rejected(text: str, expected: Rejection) -> None:
    assert check_quality(document(text), SETTINGS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Contact [EMAIL] for the report.",
        "thank you, thank you very much for coming",
        "The mill ground wheat.\nThe library opened in May.\n\nThe mill ground wheat again, once.",
    ],
)
def test_ordinary_text_passes(text: str) -> None:
    assert check_quality(document(text), SETTINGS) is None


def test_examples_have_their_own_word_floor_and_repetition_is_judged_per_turn() -> None:
    echo = RecordContent("chat", (Segment("user", "Say yes"), Segment("assistant", "Say yes")))
    short = RecordContent("completion", (Segment("prompt", "Ok?"), Segment("completion", "Yes.")))

    assert check_quality(echo, SETTINGS) is None
    assert check_quality(short, SETTINGS) is None
    assert check_quality(short, PipelineSettings(min_words_example=3)) == Rejection(
        RejectReason.TOO_FEW_WORDS, "2 words < 3"
    )


def test_the_measures() -> None:
    assert symbol_ratio("") == 0.0
    assert symbol_ratio("a_b!") == 0.5
    assert duplicate_line_fraction("one line") == 0.0
    assert duplicate_line_fraction("a\nb\na\na") == 0.5
    assert top_ngram_fraction(["a", "b", "a", "b"], 2) == 0.0
    assert top_ngram_fraction(["a", "b", "a", "b", "a", "b"], 2) == 1.0
    assert top_ngram_fraction(["x", "a", "b", "y", "a", "b", "z", "a", "b", "w"], 2) == 0.6
