"""Loading the configured base model and its tokenizer: a Hugging Face folder, a hub id, or a GGUF file.

A base model setting that ends in `.gguf` names one GGUF file (a local path, or `<hub id>/<file>.gguf`);
transformers reads it as the folder above plus `gguf_file=<name>`, which needs the `gguf` package.
Anything else goes to `from_pretrained` exactly as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig, PreTrainedModel, PreTrainedTokenizerBase

GGUF_SUFFIX = ".gguf"


def gguf_location(base_model: str | Path) -> tuple[str, str] | None:
    """The folder (or hub id) and the file name of a base model that names a GGUF file; None otherwise."""
    path = Path(base_model)
    if path.suffix.lower() != GGUF_SUFFIX:
        return None
    return str(path.parent), path.name


def load_causal_lm(base_model: str | Path, **kwargs: Any) -> PreTrainedModel:
    """`AutoModelForCausalLM.from_pretrained` for a base model setting; `kwargs` (a dtype, say) pass through.

    A GGUF file's weights are unpacked into ordinary dense layers, so the model is the same kind of model
    a folder gives: LoRA wraps its linear layers and Trainer fine-tunes it.
    """
    location = gguf_location(base_model)
    if location is None:
        model: PreTrainedModel = AutoModelForCausalLM.from_pretrained(base_model, **kwargs)
        return model
    folder, name = location
    # Without `dequantize`, transformers keeps the model marked as quantised (even where it unpacked every
    # weight), and Trainer refuses to fine-tune a quantised GGUF model.
    kwargs.setdefault("quantization_config", GgufConfig(dequantize=True))
    gguf_model: PreTrainedModel = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, **kwargs)
    return gguf_model


def load_tokenizer(base_model: str | Path) -> PreTrainedTokenizerBase:
    """`AutoTokenizer.from_pretrained` for a base model setting (a GGUF file carries its own tokenizer)."""
    location = gguf_location(base_model)
    if location is None:
        tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(base_model)
        return tokenizer
    folder, name = location
    gguf_tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    return gguf_tokenizer
