"""Perplexity of the references under each arm of an evaluation: the bare base model or a LoRA adapter.

The engines do not expose log-probabilities of given text, so the arms are scored here on one copy of
the base model, with PEFT switching adapters (the same weights the engine serves).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from peft import PeftModel

from llmops_common.models.loading import load_causal_lm, load_tokenizer

from .perplexity import reference_perplexities


def arm_perplexities(
    base_model: str,
    adapters: Mapping[str, Path | None],
    prompts: Sequence[str],
    references: Sequence[str],
    *,
    batch_size: int,
) -> dict[str, list[float]]:
    """Per arm name, each reference's perplexity given its templated prompt; an arm whose adapter is None
    is the bare base model."""
    tokenizer = load_tokenizer(base_model)
    model = load_causal_lm(base_model, dtype=torch.float32)
    scores: dict[str, list[float]] = {}
    peft_model: PeftModel | None = None
    for arm, adapter in adapters.items():
        if adapter is None:
            if peft_model is None:
                scores[arm] = reference_perplexities(model, tokenizer, prompts, references, batch_size=batch_size)
            else:
                with peft_model.disable_adapter():
                    scores[arm] = reference_perplexities(
                        peft_model, tokenizer, prompts, references, batch_size=batch_size
                    )
            continue
        if peft_model is None:
            peft_model = PeftModel.from_pretrained(model, str(adapter), adapter_name=arm)
        else:
            peft_model.load_adapter(str(adapter), adapter_name=arm)
        peft_model.set_adapter(arm)
        scores[arm] = reference_perplexities(peft_model, tokenizer, prompts, references, batch_size=batch_size)
    return scores
