"""The default base model: built by `llmops model init`, kept in the artifact store, found by the server.

The model folder is stored as one artifact; a small pointer file in the data folder names it, so every
process on this machine finds the same base model, and a fresh data folder builds it again.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from llmops_common.events.base import ArtifactRef
from llmops_common.storage.artifacts import ArtifactStore

from .corpus import CorpusDocument, load_corpus
from .pretraining import PretrainingPlan, pretrain, render_corpus, token_stream
from .tiny_llama import TinyLlamaSpec, build_tiny_llama
from .tokenizer_training import train_tokenizer

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "llmops-tiny-llama"


@dataclass(frozen=True)
class BuildReport:
    """What a build made: where the folder is, and the last training loss."""

    folder: Path
    final_loss: float
    parameters: int


def build_tiny_base_model(
    target: Path,
    spec: TinyLlamaSpec | None = None,
    plan: PretrainingPlan | None = None,
    documents: list[CorpusDocument] | None = None,
) -> BuildReport:
    """Trains the tokenizer and the model on the corpus and saves a Hugging Face folder at `target`."""
    import torch

    spec, plan = spec or TinyLlamaSpec(), plan or PretrainingPlan()

    corpus = documents if documents is not None else load_corpus()
    raw_texts = [document.text or "\n".join(m["content"] for m in document.messages or ()) for document in corpus]
    tokenizer = train_tokenizer(raw_texts, spec.vocab_size)
    model = build_tiny_llama(spec, tokenizer, seed=plan.seed)
    # Few threads keep a build polite on a shared machine; the model is too small to use more well.
    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, 2))
    try:
        loss = pretrain(model, token_stream(tokenizer, render_corpus(tokenizer, corpus)), plan)
    finally:
        torch.set_num_threads(threads)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    parameters = sum(p.numel() for p in model.parameters())
    log.info("built %s: %d parameters, final loss %.3f", target, parameters, loss)
    return BuildReport(folder=target, final_loss=loss, parameters=parameters)


def pointer_path(data_dir: Path) -> Path:
    """The file that names the default base model's artifact."""
    return data_dir / "models" / f"{DEFAULT_MODEL_NAME}.json"


def stored_default(data_dir: Path) -> ArtifactRef | None:
    """The default base model's artifact, if `llmops model init` has stored one."""
    pointer = pointer_path(data_dir)
    return ArtifactRef.model_validate_json(pointer.read_text()) if pointer.exists() else None


def init_default_base_model(
    store: ArtifactStore, data_dir: Path, spec: TinyLlamaSpec | None = None, plan: PretrainingPlan | None = None
) -> ArtifactRef:
    """Builds the default base model, stores its folder and points the data folder at it."""
    with tempfile.TemporaryDirectory(prefix="llmops-model-") as scratch:
        report = build_tiny_base_model(Path(scratch) / DEFAULT_MODEL_NAME, spec, plan)
        ref = store.put_folder(report.folder)
    pointer = pointer_path(data_dir)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(ref.model_dump_json())
    return ref


def default_base_model_folder(store: ArtifactStore, data_dir: Path) -> Path | None:
    """A local folder holding the stored default base model, unpacked once per artifact; None if none is stored."""
    ref = stored_default(data_dir)
    if ref is None:
        return None
    folder = data_dir / "models" / "unpacked" / ref.sha256[:16]
    if not folder.exists():
        store.fetch_folder(ref, folder)
    return folder


def resolve_base_model(configured: str | None, store: ArtifactStore, data_dir: Path) -> str:
    """What to pass to `from_pretrained`: the configured folder or hub id, else the stored default."""
    if configured:
        return configured
    folder = default_base_model_folder(store, data_dir)
    if folder is None:
        raise LookupError("no base model: set LLMOPS_BASE_MODEL or run `llmops model init`")
    return str(folder)


def public_model_name(base_model: str) -> str:
    """The name a base model goes by in requests and lifecycle events: a hub id as it is, a local folder by
    its folder name, a GGUF file by its file name."""
    path = Path(base_model)
    if path.suffix.lower() == ".gguf" and path.is_file():
        return path.stem  # one GGUF file: its name without the suffix, never the whole path
    return path.name if path.is_dir() else base_model
