"""The export cache: one export per model content, reused after, redone for a changed model, never left
half written, and run once when two loaders race. Past the first test, a stand-in writes the graph: the
real export is what the vector tests check, and takes seconds."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from llmops_common.embedding import onnx_export
from llmops_common.embedding.model_files import ModelFiles
from llmops_common.embedding.onnx_embedder import OnnxEmbedder
from llmops_common.embedding.onnx_export import exported_model
from tests.unit.embedding.conftest import ModelVariant


class CountingExport:
    """Writes a stand-in graph and counts the exports; `fail` makes it crash half way through."""

    def __init__(self, seconds: float = 0.0, fail: bool = False) -> None:
        self.calls = 0
        self._seconds = seconds
        self._fail = fail

    def __call__(self, model: ModelFiles, path: Path) -> None:
        self.calls += 1
        path.write_bytes(b"half a graph")
        time.sleep(self._seconds)
        if self._fail:
            raise RuntimeError("killed mid-export")
        path.write_bytes(b"a graph")


def test_a_second_load_reuses_the_exported_graph(
    onnx_embedder: OnnxEmbedder, minilm: ModelFiles, onnx_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = CountingExport()
    monkeypatch.setattr(onnx_export, "_export", export)

    again = OnnxEmbedder.load(minilm, onnx_cache)

    assert export.calls == 0
    assert again.embed_query("refund").tolist() == onnx_embedder.embed_query("refund").tolist()


def test_a_changed_model_is_exported_again_and_a_changed_pooling_is_not(
    minilm: ModelFiles, model_variant: ModelVariant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = CountingExport()
    monkeypatch.setattr(onnx_export, "_export", export)
    cache = tmp_path / "cache"
    original = exported_model(minilm, cache)
    config = {**json.loads((minilm.path / "config.json").read_text(encoding="utf-8")), "layer_norm_eps": 1e-6}

    changed = exported_model(model_variant({"config.json": config}), cache)

    assert export.calls == 2
    assert changed != original
    assert changed.read_bytes() == original.read_bytes() == b"a graph"


def test_pooling_lives_outside_the_graph(
    minilm: ModelFiles, model_variant: ModelVariant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = CountingExport()
    monkeypatch.setattr(onnx_export, "_export", export)
    original = exported_model(minilm, tmp_path / "cache")

    variant = model_variant({"1_Pooling/config.json": {"word_embedding_dimension": 384, "pooling_mode_cls_token": 1}})

    assert exported_model(variant, tmp_path / "cache") == original
    assert export.calls == 1


def test_a_crash_mid_export_leaves_no_file(minilm: ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_export, "_export", CountingExport(fail=True))

    with pytest.raises(RuntimeError, match="killed mid-export"):
        exported_model(minilm, tmp_path)

    assert [path.name for path in tmp_path.iterdir() if not path.name.endswith(".lock")] == []


def test_two_loaders_at_once_export_once(minilm: ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export = CountingExport(seconds=0.3)
    monkeypatch.setattr(onnx_export, "_export", export)
    paths: list[Path] = []
    # flock conflicts between two open() calls of one process as between two processes.
    loaders = [threading.Thread(target=lambda: paths.append(exported_model(minilm, tmp_path))) for _ in range(2)]

    for loader in loaders:
        loader.start()
    for loader in loaders:
        loader.join()

    assert export.calls == 1
    assert len(paths) == 2
    assert paths[0] == paths[1]
    assert paths[0].read_bytes() == b"a graph"
