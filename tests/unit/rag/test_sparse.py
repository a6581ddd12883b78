"""BM25-style sparse vectors over word pieces: query terms, term-frequency saturation, length normalisation."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from services.rag_retriever.chunking import Chunker
from services.rag_retriever.errors import RetrieverConfigError
from services.rag_retriever.sparse import Bm25Encoder, Bm25Params, SparseVector


def piece_id(tokenizer: Tokenizer, word: str) -> int:
    [token] = tokenizer.encode(word, add_special_tokens=False).ids
    return token


def test_a_query_weighs_each_distinct_term_once_and_drops_punctuation(tokenizer: Tokenizer) -> None:
    vector = Bm25Encoder(tokenizer).encode_query("Reset, reset RESET the password?!")

    expected = sorted(piece_id(tokenizer, word) for word in ("reset", "the", "password"))
    assert vector == SparseVector(tuple(expected), (1.0, 1.0, 1.0))


def test_a_query_of_punctuation_only_is_empty(tokenizer: Tokenizer) -> None:
    assert Bm25Encoder(tokenizer).encode_query("?! ... --").is_empty
    assert Bm25Encoder(tokenizer).encode_query("").is_empty


def test_document_weights_follow_bm25_term_frequency(tokenizer: Tokenizer) -> None:
    params = Bm25Params(k1=1.2, b=0.75, avg_tokens=4.0)
    # Four kept terms (the full stop is dropped), exactly the average length: the norm is k1 itself.
    vector = Bm25Encoder(tokenizer, params).encode_document("password reset reset reset.")

    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights[piece_id(tokenizer, "password")] == pytest.approx(1 * 2.2 / (1 + 1.2))
    assert weights[piece_id(tokenizer, "reset")] == pytest.approx(3 * 2.2 / (3 + 1.2))
    assert list(vector.indices) == sorted(vector.indices)


def test_repeating_a_term_saturates_below_k1_plus_one(tokenizer: Tokenizer) -> None:
    encoder = Bm25Encoder(tokenizer, Bm25Params(avg_tokens=50.0))

    once, many = (encoder.encode_document("water " * n).values[0] for n in (1, 50))

    assert once < many < 1.2 + 1


def test_a_term_weighs_less_in_a_longer_chunk_unless_b_is_zero(tokenizer: Tokenizer) -> None:
    short_text, long_text = "water paid", "water " + "apple river stone cloud house " * 10

    def weight(params: Bm25Params, text: str) -> float:
        vector = Bm25Encoder(tokenizer, params).encode_document(text)
        return dict(zip(vector.indices, vector.values, strict=True))[piece_id(tokenizer, "water")]

    assert weight(Bm25Params(), long_text) < weight(Bm25Params(), short_text)
    assert weight(Bm25Params(b=0.0), long_text) == pytest.approx(weight(Bm25Params(b=0.0), short_text))


def test_a_chunk_encodes_from_its_pieces_as_from_its_text(tokenizer: Tokenizer) -> None:
    text = "Halo needs a common wire (C-wire); use the Power Adapter otherwise."
    encoder = Bm25Encoder(tokenizer)
    [chunk] = Chunker(tokenizer).split(text)

    assert encoder.encode_document_tokens(chunk.token_ids) == encoder.encode_document(text)


def test_special_tokens_never_become_terms(tokenizer: Tokenizer) -> None:
    vector = Bm25Encoder(tokenizer).encode_document("[CLS] 😀 [SEP]")

    assert vector.is_empty


@pytest.mark.parametrize("params", [{"k1": -0.1}, {"b": 1.5}, {"b": -0.1}, {"avg_tokens": 0.0}])
def test_bm25_constants_out_of_range_are_refused(params: dict[str, float]) -> None:
    with pytest.raises(RetrieverConfigError, match="BM25 needs"):
        Bm25Params(**params)


def test_a_sparse_vector_needs_one_value_per_index() -> None:
    with pytest.raises(ValueError, match="2 indices but 1 values"):
        SparseVector((1, 2), (0.5,))
