"""The evaluator's app: its engine, its record of evaluations, its replicas and its subscriptions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.engines.opening import open_configured_engine
from llmops_common.service.app import create_service_app
from llmops_common.service.replicas import running_replica
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import MODELS_LIFECYCLE

from .handlers import subscribe
from .production import ProductionTable
from .service import EvaluatorService
from .settings import Settings
from .store import EvalStore


@dataclass(frozen=True)
class Deps:
    """What the evaluator's handlers use."""

    runtime: ServiceRuntime
    evaluator: EvaluatorService


def create_app(settings: Settings) -> FastAPI:
    """The evaluator's HTTP app (health and metrics); its work comes from Kafka."""

    @contextlib.asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        artifacts = open_artifact_store(settings)
        async with contextlib.AsyncExitStack() as stack:
            production = ProductionTable()
            await stack.enter_async_context(running_replica(runtime, MODELS_LIFECYCLE, production.apply))
            engine = await stack.enter_async_context(open_configured_engine(settings, settings.eval_engine))
            store = EvalStore(settings.state_dir / "evals.sqlite")
            stack.callback(store.close)
            datasets = DatasetVersionIndex(settings.state_dir / "datasets.sqlite")
            stack.callback(datasets.close)
            evaluator = EvaluatorService(
                settings, engine, engine.base_model, store, datasets, production, artifacts, runtime.bus.publisher
            )
            subscribe(runtime.bus.consumer, evaluator, datasets, max_eval_seconds=settings.eval_max_job_seconds)
            yield Deps(runtime, evaluator)

    return create_service_app(settings, open_deps)
