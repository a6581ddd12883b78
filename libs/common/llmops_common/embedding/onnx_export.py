"""The ONNX graph of a model's transformer, exported once with torch and kept in a cache folder.

The file is named after a hash of the transformer's files, so a changed model is exported again. It is
written under a temporary name and renamed into place, so a crash mid-export leaves no half file, and an
exclusive lock makes a second process that starts at the same time wait and reuse the first one's file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .model_files import EmbeddingModelError, ModelFiles

EXPORT_FORMAT = "1"
"""Bumped when the exported graph changes (inputs, outputs, opset), so older cached files are not reused."""
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
_READ_CHUNK = 1 << 20


def exported_model(model: ModelFiles, cache_dir: Path) -> Path:
    """The path of `model`'s ONNX graph in `cache_dir`, exporting it first unless it is there."""
    target = cache_dir / f"{model.slug}-{model_digest(model.path)[:32]}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / f"{target.name}.lock"):
        if not target.is_file():  # another process may have exported it while this one waited
            _export_atomically(model, target)
    return target


def model_digest(folder: Path) -> str:
    """sha256 over the export format and the name and content of each file directly in `folder`: the
    transformer's config, weights and tokenizer. Subfolders hold the steps run after the graph (pooling,
    normalisation), which do not change it."""
    digest = hashlib.sha256(f"format {EXPORT_FORMAT} opset {OPSET}\n".encode())
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(f"{path.name}\n".encode())
        with path.open("rb") as file:
            while block := file.read(_READ_CHUNK):
                digest.update(block)
    return digest.hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _export_atomically(model: ModelFiles, target: Path) -> None:
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    try:
        _export(model, Path(partial))
        os.chmod(partial, 0o644)  # mkstemp makes it private; other services of the data dir read it too
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def _export(model: ModelFiles, path: Path) -> None:
    # torch and transformers are needed only here, once per model; the ONNX backend runs without them.
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import torch
        from transformers import AutoModel
    except ImportError as error:
        raise EmbeddingModelError(
            f"exporting {model.name!r} to ONNX needs torch and transformers (pip install '.[rag]')"
        ) from error

    class HiddenStates(torch.nn.Module):
        """The transformer with positional inputs, as the exporter traces it, and one output."""

        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    transformer = AutoModel.from_pretrained(str(model.path), local_files_only=True).eval()
    sample = (torch.ones((1, 8), dtype=torch.int64),) * 2 + (torch.zeros((1, 8), dtype=torch.int64),)
    # The tracer warns of Python conditions it freezes; the graph is checked against torch in the tests.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                HiddenStates(transformer),
                sample,
                str(path),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)},
                opset_version=OPSET,
                # The TorchScript exporter: the dynamo one needs onnxscript, which is not installed.
                dynamo=False,
            )
        except Exception as error:
            # A model whose forward takes other inputs, say; the torch backend still runs it.
            raise EmbeddingModelError(
                f"cannot export {model.name!r} to ONNX ({error}); set LLMOPS_EMBEDDING_BACKEND=torch"
            ) from error
