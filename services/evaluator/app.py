"""The evaluator's app: its engine, its record of evaluations, its replicas and its subscriptions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.engines.opening import open_configured_engine
from llmops_common.models.default_base import public_model_name
from llmops_common.service.app import create_service_app
from llmops_common.service.replicas import running_replica
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import MODELS_LIFECYCLE, PROMPTS

from .handlers import LabelMoves, subscribe
from .live_moves import live_since
from .production import ProductionTable
from .prompt_gate import PromptGate
from .prompt_replica import EvaluatorPrompts, running_evaluator_prompts
from .service import EvaluatorService
from .settings import Settings
from .store import EvalStore

PROMPT_REPLICA_POLL_WAIT_MS = 100
"""The evaluator writes no prompts, so it needs no read-your-writes: a move may reach it 0.1 s late."""


@dataclass(frozen=True)
class Deps:
    """What the evaluator's handlers use."""

    runtime: ServiceRuntime
    evaluator: EvaluatorService
    prompt_gate: PromptGate
    prompts: EvaluatorPrompts
    datasets: DatasetVersionIndex


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
            prompts = await stack.enter_async_context(
                running_evaluator_prompts(runtime, poll_wait_ms=PROMPT_REPLICA_POLL_WAIT_MS)
            )
            base_model_name = settings.base_model_name or public_model_name(engine.base_model)
            gate = PromptGate(
                settings,
                engine,
                base_model_name,
                prompts,
                store,
                datasets,
                production,
                artifacts,
                runtime.bus.publisher,
            )
            moves = LabelMoves(gate, await live_since(settings, PROMPTS.name, settings.state_dir / "prompt-moves.json"))
            subscribe(
                runtime.bus.consumer,
                evaluator,
                datasets,
                max_eval_seconds=settings.eval_max_job_seconds,
                label_moves=moves,
            )
            yield Deps(runtime, evaluator, gate, prompts, datasets)

    return create_service_app(settings, open_deps)
