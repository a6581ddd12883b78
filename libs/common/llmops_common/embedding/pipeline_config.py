"""What a sentence-transformers folder says happens around its transformer: the pooling and the input
length. An embedder that runs the bare transformer (ONNX Runtime) must redo these steps exactly.

A Normalize module is accepted but not needed: every `Embedder` returns unit vectors anyway, as the torch
backend asks sentence-transformers to (`normalize_embeddings=True`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .model_files import EmbeddingModelError, ModelFiles

Pooling = Literal["mean", "cls"]

_TRANSFORMER_MODULE = "sentence_transformers.models.Transformer"
_NORMALIZE_MODULE = "sentence_transformers.models.Normalize"
_POOLING_MODULE = "sentence_transformers.models.Pooling"
_KNOWN_MODULES = (_TRANSFORMER_MODULE, _POOLING_MODULE, _NORMALIZE_MODULE)
_POOLING_FLAGS: dict[str, Pooling | None] = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": None,
    "pooling_mode_mean_sqrt_len_tokens": None,
    "pooling_mode_weightedmean_tokens": None,
    "pooling_mode_lasttoken": None,
}
"""Each flag of a Pooling module's config and the pooling it names; None: one this package cannot run."""


@dataclass(frozen=True, slots=True)
class SentencePipeline:
    """The pooling after the transformer, and how many word pieces (with [CLS] and [SEP]) it reads."""

    pooling: Pooling
    max_seq_length: int
    dimension: int


def read_pipeline(model: ModelFiles) -> SentencePipeline:
    """The pipeline of the sentence-transformers model in `model`; raises on a pooling it cannot run."""
    modules = _modules(model.path)
    pooling_dir = next((model.path / m.get("path", "") for m in modules if m.get("type") == _POOLING_MODULE), None)
    if pooling_dir is None:
        raise EmbeddingModelError(f"embedding model {model.name!r} has no Pooling module in its modules.json")
    pooling, dimension = _pooling(model.name, _json(pooling_dir / "config.json"))
    transformer = _json(model.path / "config.json")
    positions = int(transformer.get("max_position_embeddings", 512))
    bert_config = model.path / "sentence_bert_config.json"
    configured = _json(bert_config).get("max_seq_length") if bert_config.is_file() else None
    # sentence-transformers reads at most max_seq_length tokens, and never past the position table.
    max_seq_length = min(int(configured or positions), positions)
    _refuse_prompts(model)
    return SentencePipeline(pooling, max_seq_length, dimension)


def _pooling(name: str, config: dict[str, Any]) -> tuple[Pooling, int]:
    chosen = [flag for flag in _POOLING_FLAGS if config.get(flag)]
    supported = [_POOLING_FLAGS[flag] for flag in chosen]
    if len(chosen) != 1 or supported[0] is None:
        raise EmbeddingModelError(
            f"embedding model {name!r} pools with {', '.join(chosen) or 'nothing'}; the ONNX backend runs exactly "
            "one of pooling_mode_mean_tokens or pooling_mode_cls_token (set LLMOPS_EMBEDDING_BACKEND=torch)"
        )
    return supported[0], int(config["word_embedding_dimension"])


def _refuse_prompts(model: ModelFiles) -> None:
    # sentence-transformers prepends a configured prompt to queries or documents, and may pool without it.
    config = model.path / "config_sentence_transformers.json"
    prompts = _json(config).get("prompts") if config.is_file() else None
    if prompts and any(prompts.values()):
        raise EmbeddingModelError(
            f"embedding model {model.name!r} configures prompts, which the ONNX backend does not apply "
            "(set LLMOPS_EMBEDDING_BACKEND=torch)"
        )


def _modules(folder: Path) -> list[dict[str, Any]]:
    modules = _json(folder / "modules.json")
    if not isinstance(modules, list):
        raise EmbeddingModelError(f"{folder / 'modules.json'} is not a list of modules")
    # A Dense layer after pooling, say, would be silently skipped: better to refuse the model.
    unknown = [str(m.get("type")) for m in modules if m.get("type") not in _KNOWN_MODULES]
    if unknown or not modules or modules[0].get("type") != _TRANSFORMER_MODULE or modules[0].get("path"):
        raise EmbeddingModelError(
            f"{folder} is not a transformer at its root followed by pooling and normalisation "
            f"(other modules: {', '.join(unknown) or 'none'}); set LLMOPS_EMBEDDING_BACKEND=torch"
        )
    return modules


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EmbeddingModelError(f"cannot read the embedding model's {path}: {error}") from error
