"""How surprised a model is by each reference answer, given its prompt: perplexity over the answer's tokens."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional
from transformers import PreTrainedTokenizerBase

_IGNORED = -100  # the label that cross_entropy skips: prompt tokens and padding


@dataclass(frozen=True)
class _Row:
    prompt_ids: list[int]
    target_ids: list[int]


def _context_length(model: torch.nn.Module) -> int | None:
    config = getattr(model, "config", None)
    length = getattr(config, "max_position_embeddings", None)
    return length if isinstance(length, int) and length > 0 else None


def _encode(tokenizer: PreTrainedTokenizerBase, prompt: str, reference: str, context: int | None) -> _Row:
    # Apart, then joined: the ids at the boundary are exactly the prompt's and the reference's own.
    # The prompt is encoded as the engines encode a prompt (special tokens added if the model adds any).
    prompt_ids = list(tokenizer.encode(prompt))
    target_ids = list(tokenizer.encode(reference, add_special_tokens=False))
    if tokenizer.eos_token_id is not None:
        target_ids.append(int(tokenizer.eos_token_id))
    if not target_ids:
        raise ValueError("a reference without tokens, and a tokenizer without an end token, leave nothing to score")
    if context is not None and len(prompt_ids) + len(target_ids) > context:
        # Drop the prompt's oldest tokens first; keep one, which predicts the reference's first token.
        keep = max(context - len(target_ids), min(1, len(prompt_ids)))
        prompt_ids = prompt_ids[len(prompt_ids) - keep :]
        target_ids = target_ids[: context - len(prompt_ids)]
    return _Row(prompt_ids, target_ids)


PERPLEXITY_CEILING = 1e12
"""The perplexity of a reference the model cannot produce at all (an infinite or NaN likelihood, as a
diverged adapter gives): large and finite, so events, bootstraps and JSON stay numbers."""


def bounded_perplexity(mean_negative_log_likelihood: float) -> float:
    """exp(mean NLL), at most `PERPLEXITY_CEILING`; a NaN likelihood counts as the ceiling."""
    if math.isnan(mean_negative_log_likelihood) or mean_negative_log_likelihood > math.log(PERPLEXITY_CEILING):
        return PERPLEXITY_CEILING
    return math.exp(mean_negative_log_likelihood)


def _batch_perplexities(model: torch.nn.Module, rows: Sequence[_Row], pad_id: int) -> list[float]:
    device = next(model.parameters()).device
    width = max(len(r.prompt_ids) + len(r.target_ids) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), _IGNORED, dtype=torch.long)
    for i, row in enumerate(rows):
        start, end = len(row.prompt_ids), len(row.prompt_ids) + len(row.target_ids)
        input_ids[i, :end] = torch.tensor(row.prompt_ids + row.target_ids)
        attention[i, :end] = 1
        labels[i, start:end] = torch.tensor(row.target_ids)
    logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
    # Position t predicts token t + 1; only reference positions are kept, and only they are cast to
    # float32, so half-precision models neither lose accuracy nor hold a float32 copy of every logit.
    targets = labels[:, 1:].to(device)
    scored = targets != _IGNORED
    losses = functional.cross_entropy(logits[:, :-1][scored].float(), targets[scored], reduction="none")
    row_of_loss = scored.nonzero()[:, 0]
    totals = torch.zeros(len(rows), dtype=torch.float64, device=device).index_add_(0, row_of_loss, losses.double())
    counts = scored.sum(dim=1).clamp(min=1)
    return [bounded_perplexity(mean) for mean in (totals / counts).tolist()]


def reference_perplexities(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    references: Sequence[str],
    *,
    batch_size: int = 8,
) -> list[float]:
    """The perplexity of each reference given its prompt: exp of the mean negative log-likelihood of the
    reference's tokens and the end token, the prompt's tokens not counted.

    `prompts` are already rendered with the chat template; `model` is a transformers causal LM or a PEFT
    model, scored with whichever adapter is active, in eval mode (restored afterwards). Rows are batched
    with right padding; a row longer than the model's context loses the oldest tokens of its prompt.
    """
    if len(prompts) != len(references):
        raise ValueError(f"{len(prompts)} prompts but {len(references)} references")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    context = _context_length(model)
    rows = [_encode(tokenizer, p, r, context) for p, r in zip(prompts, references, strict=True)]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return [
                perplexity
                for start in range(0, len(rows), batch_size)
                for perplexity in _batch_perplexities(model, rows[start : start + batch_size], int(pad_id or 0))
            ]
    finally:
        model.train(was_training)
