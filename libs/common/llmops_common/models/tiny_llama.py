"""The default base model's architecture: a small Llama, built with the real transformers classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


@dataclass(frozen=True)
class TinyLlamaSpec:
    """Sizes of the tiny model. vLLM's CPU attention needs `hidden_size / heads >= 32`."""

    vocab_size: int = 2048
    hidden_size: int = 128
    heads: int = 4
    layers: int = 4
    intermediate_size: int = 352
    context: int = 512

    def __post_init__(self) -> None:
        if self.hidden_size % self.heads or self.hidden_size // self.heads < 32:
            raise ValueError(f"head size must be a whole number >= 32, not {self.hidden_size}/{self.heads}")


def build_tiny_llama(spec: TinyLlamaSpec, tokenizer: PreTrainedTokenizerFast, seed: int) -> LlamaForCausalLM:
    """A freshly initialised model whose special token ids and generation defaults match `tokenizer`."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,
        max_position_embeddings=spec.context,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)  # type: ignore[no-untyped-call]
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=True,
        temperature=0.8,
        top_p=0.95,
        max_new_tokens=128,
    )
    return model
