"""Chooses the next token from a row of logits: greedy, or temperature and nucleus sampling."""

from __future__ import annotations

import torch

from .base import SamplingParams


def new_generator(seed: int | None) -> torch.Generator:
    """A random source for one request: seeded requests repeat their output, others differ."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


GREEDY_BELOW_TEMPERATURE = 1e-5
"""Lower temperatures choose greedily, as in vLLM: logits divided by a tiny one overflow to inf."""


def choose_token(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator) -> int:
    """The next token for one sequence; `logits` is one row over the vocabulary."""
    if params.temperature < GREEDY_BELOW_TEMPERATURE:
        return int(torch.argmax(logits).item())
    probs = torch.softmax(logits.float() / params.temperature, dim=-1)
    if params.top_p < 1.0:
        ordered, order = torch.sort(probs, descending=True)
        # Keep the smallest prefix whose mass reaches top_p; the first token always stays.
        outside = torch.cumsum(ordered, dim=-1) - ordered >= params.top_p
        outside[0] = False  # even where top_p rounds to 0 in float32 (5e-324), which left nothing to sample
        ordered[outside] = 0.0
        probs = torch.zeros_like(probs).scatter_(0, order, ordered)
    return int(torch.multinomial(probs, 1, generator=generator).item())
