"""Which backend computes embeddings, and the setting that picks it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llmops_common.embedding.backends import resolve_backend
from llmops_common.settings import PlatformSettings


def test_onnx_is_the_default_where_onnxruntime_is_installed() -> None:
    assert resolve_backend(None) == "onnx"
    assert resolve_backend(None, "cpu") == "onnx"


def test_a_named_gpu_or_an_explicit_choice_wins() -> None:
    assert resolve_backend(None, "cuda") == "torch"
    assert resolve_backend("torch") == "torch"
    assert resolve_backend("onnx", "cuda") == "onnx"


def test_the_setting_reads_llmops_embedding_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMOPS_EMBEDDING_BACKEND", raising=False)
    assert PlatformSettings().embedding_backend is None
    monkeypatch.setenv("LLMOPS_EMBEDDING_BACKEND", "torch")
    assert PlatformSettings().embedding_backend == "torch"
    monkeypatch.setenv("LLMOPS_EMBEDDING_BACKEND", "tensorflow")
    with pytest.raises(ValidationError, match="embedding_backend"):
        PlatformSettings()


def test_exported_graphs_live_under_the_data_dir() -> None:
    assert PlatformSettings(data_dir="/srv/llmops").embedding_cache_dir.as_posix() == "/srv/llmops/models/onnx"
