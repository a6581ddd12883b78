"""The packaged all-MiniLM-L6-v2 on both backends, and copies of its folder to change one file of."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, ModelFiles, locate_model
from llmops_common.embedding.onnx_embedder import OnnxEmbedder
from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder

ModelVariant = Callable[[dict[str, Any]], ModelFiles]


@pytest.fixture(scope="session")
def minilm() -> ModelFiles:
    """The packaged model's files."""
    return locate_model(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture(scope="session")
def onnx_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests keep exported graphs: pytest's cache folder, so the export (seconds) runs once
    across runs, or a temporary folder when the cache is off."""
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    return cache.mkdir("llmops-onnx") if cache else tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="session")
def onnx_embedder(minilm: ModelFiles, onnx_cache: Path) -> OnnxEmbedder:
    """MiniLM on ONNX Runtime."""
    return OnnxEmbedder.load(minilm, onnx_cache)


@pytest.fixture(scope="session")
def torch_embedder(minilm: ModelFiles) -> SentenceTransformerEmbedder:
    """MiniLM through sentence-transformers on the CPU: the reference."""
    return SentenceTransformerEmbedder.load(minilm, device="cpu")


@pytest.fixture
def model_variant(minilm: ModelFiles, tmp_path: Path) -> ModelVariant:
    """Builds a copy of MiniLM's folder named like it (links to its files), with the given files (relative
    path to JSON content) written over."""

    def build(replaced: dict[str, Any]) -> ModelFiles:
        folder = tmp_path / minilm.slug  # the slug names the cached graph: equal files, equal graph
        for source in minilm.path.rglob("*"):
            if source.is_file():
                (folder / source.relative_to(minilm.path)).parent.mkdir(parents=True, exist_ok=True)
                (folder / source.relative_to(minilm.path)).symlink_to(source)
        for name, content in replaced.items():
            (folder / name).unlink()
            (folder / name).write_text(json.dumps(content), encoding="utf-8")
        return locate_model(str(folder))

    return build
