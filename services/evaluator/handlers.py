"""The evaluator's subscriptions: finished fine-tunes and staged prompt versions to evaluate, and sealed
datasets for its eval sets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.events import DatasetSealedV1, PromptLabelMovedV1, PromptVersionCreatedV1, TrainingCompletedV1
from llmops_common.kafka.consumer import EventConsumer, EventContext
from llmops_common.topics import DATA_DATASETS, PROMPTS, TRAINING_COMPLETED

from .live_moves import LiveSince
from .prompt_gate import PromptGate
from .service import EvaluatorService

GROUP = "evaluator"


@dataclass(frozen=True)
class LabelMoves:
    """What the subscription to prompt label moves needs: the gate, and where new moves begin."""

    gate: PromptGate
    live_since: LiveSince


def subscribe(
    consumer: EventConsumer,
    evaluator: EvaluatorService,
    datasets: DatasetVersionIndex,
    *,
    max_eval_seconds: float,
    label_moves: LabelMoves | None = None,
) -> None:
    """Registers the evaluator's subscriptions, each read by a Kafka group of its own; prompt label moves
    only when `label_moves` is given."""
    # Both kinds of evaluation share the engine and its adapter slots: one runs at a time.
    one_at_a_time = asyncio.Lock()

    async def on_training_completed(completed: TrainingCompletedV1, _: EventContext) -> None:
        async with one_at_a_time:
            await evaluator.handle(completed)

    async def on_dataset(sealed: DatasetSealedV1, _: EventContext) -> None:
        datasets.add(sealed)

    consumer.subscribe(
        TRAINING_COMPLETED,
        [TrainingCompletedV1],
        on_training_completed,
        group_id=GROUP,
        kafka_group_id=f"{GROUP}.training",
        max_poll_interval_ms=int(max_eval_seconds * 1000),
    )
    consumer.subscribe(DATA_DATASETS, [DatasetSealedV1], on_dataset, group_id=GROUP, kafka_group_id=f"{GROUP}.datasets")
    if label_moves is not None:
        _subscribe_label_moves(consumer, label_moves, one_at_a_time, max_eval_seconds)


def _subscribe_label_moves(
    consumer: EventConsumer, moves: LabelMoves, one_at_a_time: asyncio.Lock, max_seconds: float
) -> Any:
    async def on_prompt_change(change: PromptVersionCreatedV1 | PromptLabelMovedV1, context: EventContext) -> None:
        if not isinstance(change, PromptLabelMovedV1) or not moves.live_since.includes(
            context.partition, context.offset
        ):
            return
        async with one_at_a_time:
            await moves.gate.handle(change, context.envelope.id)

    # A consumer group, unlike the prompt replica, so that one instance evaluates each move; it accepts
    # version events too, which it passes over, since anything else would be dead-lettered.
    return consumer.subscribe(
        PROMPTS,
        [PromptVersionCreatedV1, PromptLabelMovedV1],
        on_prompt_change,
        group_id=GROUP,
        kafka_group_id=f"{GROUP}.prompts",
        max_poll_interval_ms=int(max_seconds * 1000),
    )
