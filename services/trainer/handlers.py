"""The trainer's subscriptions: training requests, cancels, sealed datasets and alerts.

Each topic is read by a Kafka group of its own, so a job that trains for an hour never keeps a cancel,
a new dataset version or an alert waiting. The request's offset is committed only after its terminal
event is published; a request interrupted by shutdown is left uncommitted and resumes at the next start.
"""

from __future__ import annotations

import asyncio
import logging

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.events import (
    AlertFiredV1,
    AlertResolvedV1,
    DatasetSealedV1,
    TrainingCancelRequestedV1,
    TrainingRequestedV1,
)
from llmops_common.kafka.consumer import EventConsumer, EventContext
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.topics import ALERTS, DATA_DATASETS, TRAINING_CONTROL, TRAINING_REQUESTS

from .retrain_policy import AutoRetrain
from .service import ServiceStoppingError, TrainerService

GROUP = "trainer"
log = logging.getLogger(__name__)


def subscribe(
    consumer: EventConsumer,
    trainer: TrainerService,
    datasets: DatasetVersionIndex,
    retrain: AutoRetrain,
    publisher: EventPublisher,
    *,
    max_job_seconds: float,
) -> None:
    """Registers the trainer's four subscriptions."""

    async def on_request(request: TrainingRequestedV1, _: EventContext) -> None:
        try:
            await trainer.handle(request)
        except ServiceStoppingError:
            # Neither handled nor dead-lettered: the batch stays uncommitted and comes back after a restart.
            raise asyncio.CancelledError from None

    async def on_cancel(cancel: TrainingCancelRequestedV1, _: EventContext) -> None:
        trainer.cancel(cancel.job_id, cancel.reason)

    async def on_dataset(sealed: DatasetSealedV1, _: EventContext) -> None:
        datasets.add(sealed)
        for request in retrain.on_dataset_sealed(sealed):
            await publisher.publish(request)
            retrain.requested(request, sealed.rows)
            log.info("auto-retrain requested a job", extra={"job_id": request.job_id, "reason": request.reason})

    async def on_alert(alert: AlertFiredV1 | AlertResolvedV1, _: EventContext) -> None:
        request = retrain.on_alert(alert) if isinstance(alert, AlertFiredV1) else None
        if request is None:
            return
        sealed = datasets.find(request.tenant, request.dataset, request.dataset_version)
        await publisher.publish(request)
        retrain.requested(request, sealed.rows if sealed else 0)
        log.info("auto-retrain requested a job", extra={"job_id": request.job_id, "reason": request.reason})

    consumer.subscribe(
        TRAINING_REQUESTS,
        [TrainingRequestedV1],
        on_request,
        group_id=GROUP,
        kafka_group_id=f"{GROUP}.requests",
        max_poll_interval_ms=int(max_job_seconds * 1000),
    )
    consumer.subscribe(
        TRAINING_CONTROL, [TrainingCancelRequestedV1], on_cancel, group_id=GROUP, kafka_group_id=f"{GROUP}.control"
    )
    consumer.subscribe(DATA_DATASETS, [DatasetSealedV1], on_dataset, group_id=GROUP, kafka_group_id=f"{GROUP}.datasets")
    # Alerts from before this trainer started are history: only new ones may start a job.
    consumer.subscribe(
        ALERTS,
        [AlertFiredV1, AlertResolvedV1],
        on_alert,
        group_id=GROUP,
        kafka_group_id=f"{GROUP}.alerts",
        from_beginning=False,
    )
