"""The collector's subscription: the requests it learns from `llmops.inference.completed`."""

from __future__ import annotations

from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.consumer import EventConsumer, EventContext
from llmops_common.topics import INFERENCE_COMPLETED

from .service import FeedbackCollector

GROUP = "feedback_collector"


def subscribe(consumer: EventConsumer, collector: FeedbackCollector) -> None:
    """Keeps every served request; a redelivery overwrites the same row, so it is harmless."""

    async def on_inference(event: InferenceCompletedV1, _: EventContext) -> None:
        collector.learn([event])

    consumer.subscribe(INFERENCE_COMPLETED, [InferenceCompletedV1], on_inference, group_id=GROUP)
