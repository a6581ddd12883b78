"""A tiny base model and LoRA adapters for tests, built with the same code as `llmops model init`.

The model is smaller and trained for seconds, not minutes; it is built once and cached (keyed by
everything that shapes it), so later test sessions load it from disk.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from llmops_common.models.corpus import CORPUS_PATH, load_corpus
from llmops_common.models.default_base import build_tiny_base_model
from llmops_common.models.pretraining import PretrainingPlan
from llmops_common.models.tiny_llama import TinyLlamaSpec

TEST_SPEC = TinyLlamaSpec(vocab_size=512, hidden_size=64, heads=2, layers=2, intermediate_size=128, context=256)
# Bound by steps only (the time limit is far off), so the model is the same on a busy machine as on a quiet one.
TEST_PLAN = PretrainingPlan(max_steps=200, max_seconds=3600.0, batch_size=8, block_size=96, learning_rate=1e-2)
TEST_DOCUMENTS = 400


def _build_key() -> str:
    digest = hashlib.sha256(repr((TEST_SPEC, TEST_PLAN, TEST_DOCUMENTS)).encode())
    digest.update(CORPUS_PATH.read_bytes())
    for module in ("default_base", "pretraining", "tiny_llama", "tokenizer_training", "chat_format"):
        digest.update((CORPUS_PATH.parents[1] / f"{module}.py").read_bytes())
    return digest.hexdigest()[:12]


def tiny_model_folder(cache_root: Path) -> Path:
    """The test model's Hugging Face folder under `cache_root`, built on first use."""
    folder = cache_root / f"tiny-llama-{_build_key()}"
    if (folder / "config.json").exists():
        return folder
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_root))
    try:
        build_tiny_base_model(scratch / "model", TEST_SPEC, TEST_PLAN, load_corpus()[:TEST_DOCUMENTS])
        os.replace(scratch / "model", folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


def make_lora_adapter(base_model: Path, target: Path, seed: int, rank: int = 8) -> Path:
    """A PEFT LoRA adapter for `base_model` with random, clearly non-zero weights, saved as safetensors.

    PEFT starts `lora_B` at zero (a no-op adapter); random weights make the adapter change the output,
    so a test can tell adapters apart.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
    config = LoraConfig(
        r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], lora_dropout=0.0
    )
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.08)
    peft_model.save_pretrained(target, safe_serialization=True)
    return target


def broken_adapter(like: Path, target: Path) -> Path:
    """An adapter folder with `like`'s valid config but weights that are not safetensors."""
    target.mkdir(parents=True)
    (target / "adapter_config.json").write_text((like / "adapter_config.json").read_text())
    (target / "adapter_model.safetensors").write_bytes(b"not safetensors")
    return target
