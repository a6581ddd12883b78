"""The two sides of a prompt evaluation: each prompt version served on its model, answering and scored.

A prompt version is served on the model its `parameters.model` names: a deployed model with a
production adapter runs on that adapter, the base model (or no model named) on the bare base model.
Both sides answer greedily through the serving engine with the same batch size, as in an adapter
evaluation, and each answer is scored with the same metrics against the same reference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops_common.engines.base import AdapterSpec, InferenceEngine

from .answers import greedy_answers
from .arm_perplexity import arm_perplexities
from .metrics import example_scores
from .service import ArmResults


@dataclass(frozen=True)
class ServedArm:
    """One side: a prompt version, the model it is served on, and its engine inputs."""

    name: str
    prompt_version: int
    model_name: str
    adapter_version: str | None
    adapter_dir: Path | None
    max_tokens: int
    prompts: list[str]
    """The engine input of each example: the version's rendered chat, chat template applied."""

    def served_on(self) -> str:
        """The model it runs on, for reasons and reports."""
        if self.adapter_version is None:
            return f"model {self.model_name} (the base model, no adapter)"
        return f"model {self.model_name} (adapter {self.adapter_version})"


async def answer_and_score(
    engine: InferenceEngine, arm: ServedArm, references: Sequence[str], *, batch_size: int, request_prefix: str
) -> ArmResults:
    """The arm's greedy answers and each one's text metrics against its reference."""
    # A name of its own, so that unloading it never pulls an adapter an adapter evaluation loaded.
    adapter = AdapterSpec(f"eval-prompt:{arm.adapter_dir.name}", arm.adapter_dir) if arm.adapter_dir else None
    if adapter is not None:
        await engine.load_adapter(adapter)
    try:
        answers = await greedy_answers(
            engine,
            arm.prompts,
            adapter,
            batch_size=batch_size,
            max_tokens=arm.max_tokens,
            request_prefix=request_prefix,
        )
    finally:
        if adapter is not None:
            await engine.unload_adapter(adapter.name)
    scores = await asyncio.to_thread(
        lambda: [example_scores(answer, reference) for answer, reference in zip(answers, references, strict=True)]
    )
    return ArmResults(answers, scores)


def prompt_perplexities(
    base_model: str, arms: Sequence[ServedArm], references: Sequence[str], *, batch_size: int
) -> list[list[float]]:
    """Per arm, each reference's perplexity given that arm's own prompt, on that arm's adapter.

    `arm_perplexities` scores one list of prompts under every adapter it is given; here each arm has its
    own prompts, so all arms' prompts go through as one list and each arm keeps its own slice. The model
    is loaded once; when the arms run on different adapters, the slices nobody reads cost extra passes.
    """
    keys = [arm.adapter_dir.name if arm.adapter_dir else "base" for arm in arms]
    adapters = {key: arm.adapter_dir for key, arm in zip(keys, arms, strict=True)}
    prompts = [prompt for arm in arms for prompt in arm.prompts]
    scores = arm_perplexities(base_model, adapters, prompts, list(references) * len(arms), batch_size=batch_size)
    size = len(references)
    return [scores[key][index * size : (index + 1) * size] for index, key in enumerate(keys)]
