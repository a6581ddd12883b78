"""The trainer's app: its store, the base model it fine-tunes, its subscriptions and auto-retrain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.service.app import create_service_app
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store

from .base_model import TrainerBaseModel
from .handlers import subscribe
from .retrain_policy import AutoRetrain
from .service import TrainerService
from .settings import Settings
from .store import TrainerStore


@dataclass(frozen=True)
class Deps:
    """What the trainer's handlers use."""

    runtime: ServiceRuntime
    store: TrainerStore
    trainer: TrainerService


def create_app(settings: Settings) -> FastAPI:
    """The trainer's HTTP app (health and metrics); its work comes from Kafka."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        artifacts = open_artifact_store(settings)
        base_model = TrainerBaseModel(settings, artifacts)
        store = TrainerStore(settings.state_dir / "trainer.sqlite")
        datasets = DatasetVersionIndex(settings.state_dir / "datasets.sqlite")
        try:
            publisher = runtime.bus.publisher
            trainer = TrainerService(settings, store, datasets, artifacts, publisher, base_model)
            retrain = AutoRetrain(settings.retrain_policies, store, datasets, base_model.name)
            subscribe(
                runtime.bus.consumer,
                trainer,
                datasets,
                retrain,
                publisher,
                max_job_seconds=settings.train_max_job_seconds,
            )
            runtime.readiness.add("artifacts", lambda: asyncio.to_thread(artifacts.ping))
            # Stops a running job at its next step (not finished, so it resumes) before the bus closes.
            runtime.before_close(_stopper(trainer))
            yield Deps(runtime, store, trainer)
        finally:
            datasets.close()
            store.close()

    return create_service_app(settings, open_deps)


def _stopper(trainer: TrainerService) -> Callable[[], Awaitable[None]]:
    async def stop_running_job() -> None:
        trainer.stop()

    return stop_running_job
