"""The evaluator's app: its engine, its record of evaluations, its replicas and its subscriptions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.engines.opening import open_configured_engine
from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.request_reply import Requester
from llmops_common.models.default_base import public_model_name
from llmops_common.service.app import create_service_app
from llmops_common.service.replicas import running_replica
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import MODELS_LIFECYCLE, PROMPTS, RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS

from .handlers import LabelMoves, subscribe
from .live_moves import live_since
from .parts import EvaluationParts
from .production import ProductionTable
from .prompt_gate import PromptGate
from .prompt_replica import EvaluatorPrompts, running_evaluator_prompts
from .retrieval_eval import AskRetriever
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
            parts = EvaluationParts(settings, engine, store, datasets, production, artifacts, runtime.bus.publisher)
            evaluator = EvaluatorService(parts, engine.base_model, ask_retriever=_retriever_asker(runtime, settings))
            prompts = await stack.enter_async_context(
                running_evaluator_prompts(runtime, poll_wait_ms=PROMPT_REPLICA_POLL_WAIT_MS)
            )
            base_model_name = settings.base_model_name or public_model_name(engine.base_model)
            gate = PromptGate(parts, base_model_name, prompts)
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


def _retriever_asker(runtime: ServiceRuntime, settings: Settings) -> AskRetriever | None:
    """Asks the retriever over the platform's request/reply, for the policies that name a retrieval set;
    None when none does, so an evaluator without RAG models reads no reply topic."""
    policies = (settings.default_eval_policy, *settings.eval_policies.values())
    if not any(policy.retrieval_set for policy in policies):
        return None
    # Built here, before the broker starts, as a requester must be; it takes its position once it runs.
    requester = Requester(
        runtime.bus.broker,
        runtime.bus.publisher,
        RETRIEVAL_REPLIES.name,
        RetrievalAnsweredV1,
        fetch_max_wait_ms=settings.kafka_request_fetch_wait_ms,
    )
    timeout = settings.eval_retrieval_timeout_seconds

    async def ask(request: RetrievalRequestedV1) -> RetrievalAnsweredV1:
        return await requester.request_when_ready(request, topic=RETRIEVAL_REQUESTS.name, timeout=timeout)

    return ask
