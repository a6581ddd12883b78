"""The evaluator's subscriptions: finished fine-tunes to evaluate, and sealed datasets for its eval sets."""

from __future__ import annotations

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.events import DatasetSealedV1, TrainingCompletedV1
from llmops_common.kafka.consumer import EventConsumer, EventContext
from llmops_common.topics import DATA_DATASETS, TRAINING_COMPLETED

from .service import EvaluatorService

GROUP = "evaluator"


def subscribe(
    consumer: EventConsumer, evaluator: EvaluatorService, datasets: DatasetVersionIndex, *, max_eval_seconds: float
) -> None:
    """Registers the evaluator's subscriptions, each read by a Kafka group of its own."""

    async def on_training_completed(completed: TrainingCompletedV1, _: EventContext) -> None:
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
