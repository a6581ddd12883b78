"""Brief causal-LM pre-training on the corpus, on CPU, bounded by steps and by wall time."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from .chat_format import render_document
from .corpus import CorpusDocument

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainingPlan:
    """How long to train: whichever of `max_steps` and `max_seconds` comes first ends it."""

    max_steps: int = 600
    max_seconds: float = 180.0
    batch_size: int = 16
    block_size: int = 128
    learning_rate: float = 3e-3
    seed: int = 0


def render_corpus(tokenizer: PreTrainedTokenizerFast, documents: Sequence[CorpusDocument]) -> list[str]:
    """Each document as training text; conversations go through the chat template, as served prompts do."""
    texts = []
    for document in documents:
        if document.messages is not None:
            texts.append(str(tokenizer.apply_chat_template(list(document.messages), tokenize=False)))
        else:
            texts.append(render_document(document.text or ""))
    return texts


def token_stream(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str]) -> torch.Tensor:
    """All texts as one long run of token ids (special tokens included, none added)."""
    ids: list[int] = []
    for text in texts:
        ids.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
    return torch.tensor(ids, dtype=torch.long)


def learning_rate_at(peak: float, progress: float) -> float:
    """A short linear warm-up, then cosine decay to a tenth of the peak."""
    if progress < 0.05:
        return peak * (progress / 0.05 + 0.01)
    return peak * (0.1 + 0.45 * (1 + math.cos(math.pi * min(progress, 1.0))))


def pretrain(model: LlamaForCausalLM, stream: torch.Tensor, plan: PretrainingPlan) -> float:
    """Trains on random blocks of `stream`; returns the mean loss of the last steps."""
    rng = random.Random(plan.seed)  # noqa: S311 - reproducible batches, not a secret
    optimizer = torch.optim.AdamW(model.parameters(), lr=plan.learning_rate, weight_decay=0.01)
    model.train()
    started, recent = time.monotonic(), [float("nan")]
    for step in range(plan.max_steps):
        # Progress is by steps or by time, whichever is further, so a slow machine still anneals.
        progress = max(step / plan.max_steps, (time.monotonic() - started) / plan.max_seconds)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(plan.learning_rate, progress)
        starts = [rng.randrange(0, len(stream) - plan.block_size - 1) for _ in range(plan.batch_size)]
        batch = torch.stack([stream[start : start + plan.block_size] for start in starts])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        recent = [*recent[-19:], loss.item()]
        if step % 50 == 0:
            log.info("pre-training step %d loss %.3f", step, loss.item())
        if time.monotonic() - started > plan.max_seconds:
            log.info("pre-training stopped at step %d on its time budget", step)
            break
    model.eval()  # type: ignore[no-untyped-call]
    tail = [value for value in recent if value == value]
    return sum(tail) / len(tail)
