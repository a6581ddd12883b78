"""The ONNX backend gives sentence-transformers' vectors: for queries, for batches of mixed lengths, for
texts cut at the model's input length, and with CLS pooling; it refuses a pooling it cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llmops_common.embedding.model_files import EmbeddingModelError
from llmops_common.embedding.onnx_embedder import OnnxEmbedder
from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder, Vectors
from tests.unit.embedding.conftest import ModelVariant

LONG = " ".join(f"clause {n} of the service agreement limits liability for indirect damages" for n in range(60))
TEXTS = [
    "How do I reset my password?",
    "refund",
    "",
    "Die Rückerstattung dauert fünf Werktage, sagt der Kundendienst.",
    LONG,
    "The quick brown fox jumps over the lazy dog. " * 12,
    *(f"invoice {n} was paid late " * (n + 1) for n in range(14)),
]


def assert_same_vectors(actual: Vectors, expected: Vectors) -> None:
    assert actual.shape == expected.shape
    assert actual.dtype == np.float32
    assert np.abs(actual - expected).max() < 1e-4
    assert (actual * expected).sum(axis=-1).min() > 0.9999
    np.testing.assert_allclose(np.linalg.norm(actual, axis=-1), 1.0, atol=1e-5)


def test_query_vectors_equal_sentence_transformers(
    onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    for text in TEXTS[:6]:
        assert_same_vectors(onnx_embedder.embed_query(text), torch_embedder.embed_query(text))


def test_a_batch_of_mixed_lengths_keeps_its_order_and_values(
    onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    onnx_embedder.batch_size = 4  # several padded batches, each of texts sorted by length
    try:
        vectors = onnx_embedder.embed_documents(TEXTS)
    finally:
        onnx_embedder.batch_size = 16

    assert_same_vectors(vectors, torch_embedder.embed_documents(TEXTS))
    assert onnx_embedder.embed_documents([]).shape == (0, 384)


def test_a_long_text_is_cut_at_the_models_input_length(onnx_embedder: OnnxEmbedder) -> None:
    assert (onnx_embedder.max_tokens, onnx_embedder.dimension) == (256, 384)

    longer = onnx_embedder.embed_query(LONG + " and the rest is never read by the model")

    np.testing.assert_array_equal(longer, onnx_embedder.embed_query(LONG))


def test_cls_pooling_equals_sentence_transformers_with_the_same_config(
    model_variant: ModelVariant, onnx_cache: Path
) -> None:
    files = model_variant({"1_Pooling/config.json": {"word_embedding_dimension": 384, "pooling_mode_cls_token": True}})

    onnx = OnnxEmbedder.load(files, onnx_cache).embed_documents(TEXTS[:6])

    assert_same_vectors(onnx, SentenceTransformerEmbedder.load(files, device="cpu").embed_documents(TEXTS[:6]))


@pytest.mark.parametrize(
    ("replaced", "message"),
    [
        (
            {"1_Pooling/config.json": {"word_embedding_dimension": 384, "pooling_mode_max_tokens": True}},
            "pools with pooling_mode_max_tokens; the ONNX backend runs exactly one of pooling_mode_mean_tokens or "
            "pooling_mode_cls_token (set LLMOPS_EMBEDDING_BACKEND=torch)",
        ),
        (
            {"modules.json": [{"type": "sentence_transformers.models.Transformer", "path": ""}]},
            "has no Pooling module in its modules.json",
        ),
        (
            {
                "modules.json": [
                    {"type": "sentence_transformers.models.Transformer", "path": ""},
                    {"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"},
                    {"type": "sentence_transformers.models.Dense", "path": "2_Dense"},
                ]
            },
            "(other modules: sentence_transformers.models.Dense); set LLMOPS_EMBEDDING_BACKEND=torch",
        ),
    ],
)
def test_a_pipeline_it_cannot_run_is_a_clear_error(
    model_variant: ModelVariant, tmp_path: Path, replaced: dict[str, object], message: str
) -> None:
    files = model_variant(replaced)

    with pytest.raises(EmbeddingModelError) as raised:
        OnnxEmbedder.load(files, tmp_path / "cache")

    assert message in raised.value.message
    assert not (tmp_path / "cache").exists()  # refused before any export
