"""The loss of a model on held-out examples, averaged over completion tokens as training averages it."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own convention
from transformers import PreTrainedModel

from .examples import IGNORE_INDEX, PaddingCollator, TokenizedExample


def held_out_loss(
    model: torch.nn.Module | PreTrainedModel,
    examples: Sequence[TokenizedExample],
    collator: PaddingCollator,
    batch_size: int,
) -> float | None:
    """Mean cross-entropy per completion token over `examples`; None when there are none.

    Every token weighs the same, whatever its batch, so the number does not depend on the batch size
    or on how many processes share the work; Trainer's own evaluation averages per batch instead.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    try:
        with torch.no_grad():
            for start in range(0, len(examples), batch_size):
                batch = {k: v.to(device) for k, v in collator(examples[start : start + batch_size]).items()}
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                # Position i predicts token i + 1.
                predicted, targets = logits[:, :-1].float(), batch["labels"][:, 1:]
                total += F.cross_entropy(
                    predicted.reshape(-1, predicted.shape[-1]),
                    targets.reshape(-1),
                    ignore_index=IGNORE_INDEX,
                    reduction="sum",
                ).item()
                tokens += int((targets != IGNORE_INDEX).sum().item())
    finally:
        model.train(was_training)
    return total / tokens if tokens else None
