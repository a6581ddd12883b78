"""Token-aware chunking: window sizes, overlap, offsets into the original text, word boundaries."""

from __future__ import annotations

import itertools

import pytest
from tokenizers import Tokenizer

from services.rag_retriever.chunking import Chunk, Chunker
from services.rag_retriever.errors import RetrieverConfigError

ONE_PIECE_WORDS = [
    *("apple", "river", "stone", "cloud", "house", "green", "table", "music", "water", "light", "paper", "horse"),
    *("bread", "chair", "dream", "field", "glass", "heart", "night", "ocean", "plant", "queen", "smile", "train"),
    "voice",
]
"""Words the MiniLM tokenizer keeps whole, so that word and token positions coincide."""


def pieces(tokenizer: Tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False).ids


def test_an_empty_or_blank_text_has_no_chunks(tokenizer: Tokenizer) -> None:
    chunker = Chunker(tokenizer)

    assert chunker.split("") == []
    assert chunker.split("  \n\t ") == []


def test_a_short_text_is_one_chunk_sliced_from_the_original(tokenizer: Tokenizer) -> None:
    text = "  Reset your Password from Settings.\n"

    [chunk] = Chunker(tokenizer).split(text)

    assert chunk == Chunk(0, "Reset your Password from Settings.", 2, 36, tuple(pieces(tokenizer, text)))
    assert chunk.token_count == 6


def test_windows_overlap_by_the_configured_tokens(tokenizer: Tokenizer) -> None:
    text = " ".join(ONE_PIECE_WORDS)

    chunks = Chunker(tokenizer, chunk_tokens=10, overlap_tokens=3).split(text)

    assert [chunk.text.split() for chunk in chunks] == [
        ONE_PIECE_WORDS[0:10],
        ONE_PIECE_WORDS[7:17],
        ONE_PIECE_WORDS[14:24],
        ONE_PIECE_WORDS[21:25],
    ]
    assert [chunk.index for chunk in chunks] == [0, 1, 2, 3]
    assert [chunk.token_count for chunk in chunks] == [10, 10, 10, 4]


def test_no_overlap_tiles_the_text(tokenizer: Tokenizer) -> None:
    text = " ".join(ONE_PIECE_WORDS[:20])

    chunks = Chunker(tokenizer, chunk_tokens=5, overlap_tokens=0).split(text)

    assert [chunk.text for chunk in chunks] == [" ".join(ONE_PIECE_WORDS[n : n + 5]) for n in range(0, 20, 5)]


def test_a_window_never_ends_inside_a_word(tokenizer: Tokenizer) -> None:
    # "unbelievably" is five word pieces: the first window would cut it after "un", and the third
    # window's overlap would start inside it at "##bly".
    text = "apple river stone cloud house unbelievably green table"

    chunks = Chunker(tokenizer, chunk_tokens=6, overlap_tokens=1).split(text)

    assert [chunk.text for chunk in chunks] == [
        "apple river stone cloud house",
        "house unbelievably",
        "unbelievably green",
        "green table",
    ]


def test_a_word_longer_than_a_window_is_cut_and_chunking_still_ends(tokenizer: Tokenizer) -> None:
    text = "apple " + "unbelievably" * 4 + " river"

    chunks = Chunker(tokenizer, chunk_tokens=4, overlap_tokens=2).split(text)

    assert chunks[0].text.startswith("apple")
    assert chunks[-1].text.endswith("river")
    assert all(chunk.token_count <= 4 for chunk in chunks)
    assert all(later.end > earlier.end for earlier, later in itertools.pairwise(chunks))


def test_a_long_document_keeps_its_text_offsets_and_pieces(tokenizer: Tokenizer) -> None:
    sentence = "Qdrant's café serves crème brûlée to naïve engineers at 8:30, every day 😀. "
    text = sentence * 400

    chunks = Chunker(tokenizer, chunk_tokens=200, overlap_tokens=40).split(text)

    total = len(pieces(tokenizer, text))
    assert total > 5000
    assert len(chunks) == pytest.approx(total / 160, abs=2)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert 0 < chunk.token_count <= 200
        # Windows start and end on word boundaries, so the text alone gives back the same pieces.
        assert pieces(tokenizer, chunk.text) == list(chunk.token_ids)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text.rstrip())
    for earlier, later in itertools.pairwise(chunks):
        # The overlap is at least 40 pieces; more only where it had to move back to a word's start.
        assert 40 <= len(pieces(tokenizer, text[later.start : earlier.end])) < 50


def test_accents_and_case_survive_in_the_chunk_text(tokenizer: Tokenizer) -> None:
    text = "Crème Brûlée at the Café"

    [chunk] = Chunker(tokenizer).split(text)

    assert chunk.text == "Crème Brûlée at the Café"


@pytest.mark.parametrize(("chunk_tokens", "overlap_tokens"), [(0, 0), (10, 10), (10, 11), (10, -1)])
def test_sizes_that_cannot_make_progress_are_refused(
    tokenizer: Tokenizer, chunk_tokens: int, overlap_tokens: int
) -> None:
    with pytest.raises(RetrieverConfigError, match="overlap_tokens"):
        Chunker(tokenizer, chunk_tokens, overlap_tokens)


def test_a_chunk_must_fit_the_model_with_its_special_tokens(tokenizer: Tokenizer) -> None:
    Chunker(tokenizer, chunk_tokens=254, overlap_tokens=40, max_tokens=256)

    with pytest.raises(RetrieverConfigError, match="exceeds the model's 256 tokens"):
        Chunker(tokenizer, chunk_tokens=255, overlap_tokens=40, max_tokens=256)
