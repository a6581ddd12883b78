"""The model server's app: the engine, the deployment table, keys, prompts, retrieval and telemetry."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.budgets.replica import running_budget_blocklist
from llmops_common.engines.base import InferenceEngine
from llmops_common.engines.opening import open_configured_engine
from llmops_common.events import ModelAdapterLoadFailedV1, RetrievalAnsweredV1
from llmops_common.kafka.request_reply import Requester
from llmops_common.models.default_base import public_model_name
from llmops_common.prompts.replica import PromptReplica, running_prompt_replica
from llmops_common.service.app import create_service_app
from llmops_common.service.background import running_in_background
from llmops_common.service.body_guard import GuardedBodies
from llmops_common.service.replicas import running_replica
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import INFERENCE_COMPLETED, MODELS_LIFECYCLE, RETRIEVAL_REPLIES

from .adapter_files import AdapterFiles
from .admission import Admission
from .api import router
from .errors import error_response, install_openai_error_handlers
from .lifecycle import DeploymentController
from .metrics import ServerMetrics
from .openapi_bodies import publish_body_schemas
from .preparation import PromptPreparer
from .rate_limits import KeyLimits
from .request_ids import RequestIds
from .retrieval import RagRetriever
from .serving import InferenceService, Services
from .settings import Settings
from .telemetry import TelemetryBuffer
from .telemetry_spill import Pending, TelemetrySpill
from .tenant_gate import BudgetTenantGate, TenantGate

EngineOpener = Callable[[Settings], AbstractAsyncContextManager[InferenceEngine]]
"""Starts the engine for the settings' base model, and stops it when the block ends."""


def _open_settings_engine(settings: Settings) -> AbstractAsyncContextManager[InferenceEngine]:
    return open_configured_engine(settings, settings.engine)


@dataclass(frozen=True)
class Deps:
    """What the routes use; `service` does the work."""

    runtime: ServiceRuntime
    keyring: KeyRing
    prompts: PromptReplica
    engine: InferenceEngine
    controller: DeploymentController
    service: InferenceService
    telemetry: TelemetryBuffer
    metrics: ServerMetrics
    started_at: int


def create_app(
    settings: Settings, *, open_engine: EngineOpener | None = None, tenant_gate: TenantGate | None = None
) -> FastAPI:
    """The model server's HTTP app.

    `open_engine` defaults to the configured engine on the configured base model; `tenant_gate` defaults to
    the replica of enforced budgets on `llmops.budgets`.
    """
    opener = open_engine or _open_settings_engine

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        async with contextlib.AsyncExitStack() as stack:
            poll = settings.replica_poll_wait_ms
            keyring = await stack.enter_async_context(running_key_ring(runtime, poll_wait_ms=poll))
            prompts = await stack.enter_async_context(running_prompt_replica(runtime, poll_wait_ms=poll))
            if tenant_gate is None:
                budgets = await stack.enter_async_context(running_budget_blocklist(runtime, poll_wait_ms=poll))
            gate = tenant_gate or BudgetTenantGate(budgets)
            engine = await stack.enter_async_context(opener(settings))
            metrics = ServerMetrics(runtime.registry)
            controller = DeploymentController(
                settings.base_model_name or public_model_name(engine.base_model),
                engine,
                AdapterFiles(open_artifact_store(settings), settings.state_dir / "adapters"),
                lambda failure: _publish_failure(runtime, failure),
                server=f"{socket.gethostname()}:{settings.http_port}",
                load_timeout=settings.adapter_load_timeout_seconds,
            )
            telemetry = TelemetryBuffer(
                lambda batch: _publish_batch(runtime, batch),
                metrics,
                TelemetrySpill(settings.state_dir / "telemetry_spill", settings.telemetry_spill_max_bytes),
                source=runtime.bus.publisher.source,
                capacity=settings.telemetry_buffer_size,
                batch_size=settings.telemetry_batch_size,
                flush_seconds=settings.telemetry_flush_seconds,
                publish_timeout=settings.telemetry_publish_timeout_seconds,
            )
            requester = Requester(
                runtime.bus.broker,
                runtime.bus.publisher,
                RETRIEVAL_REPLIES.name,
                RetrievalAnsweredV1,
                fetch_max_wait_ms=settings.kafka_request_fetch_wait_ms,
            )
            retriever = RagRetriever(requester, settings.retriever_timeout_seconds)
            admission = Admission(settings.max_running_requests, settings.max_queued_requests)
            metrics.watch_queue(lambda: admission.queued, lambda: admission.running)
            service = InferenceService(
                Services(
                    settings=settings,
                    engine=engine,
                    deployments=controller,
                    preparer=PromptPreparer(settings, engine.tokenizer, prompts.renderer, retriever),
                    limits=KeyLimits(),
                    admission=admission,
                    telemetry=telemetry,
                    metrics=metrics,
                    tenant_gate=gate,
                )
            )
            await stack.enter_async_context(running_in_background(controller.run()))
            await stack.enter_async_context(
                running_replica(runtime, MODELS_LIFECYCLE, controller.on_event, poll_wait_ms=poll)
            )
            # Serve nothing until every replayed deployment has its adapters loaded.
            await controller.wait_idle()
            await stack.enter_async_context(running_in_background(telemetry.run()))
            await stack.enter_async_context(running_in_background(retriever.get_ready()))
            runtime.before_close(functools.partial(_flush, telemetry, settings.telemetry_publish_timeout_seconds))
            yield Deps(runtime, keyring, prompts, engine, controller, service, telemetry, metrics, int(time.time()))

    guarded = GuardedBodies(settings.max_body_bytes, render=error_response)
    app = create_service_app(settings, open_deps, routers=[router], guarded_bodies=guarded)
    install_openai_error_handlers(app)
    publish_body_schemas(app)
    app.add_middleware(RequestIds)
    return app


async def _publish_batch(runtime: ServiceRuntime, batch: Sequence[Pending]) -> None:
    events = [event for _, event in batch]
    await runtime.bus.publisher.publish_many(
        events, topic=INFERENCE_COMPLETED.name, envelopes=[envelope for envelope, _ in batch]
    )


async def _publish_failure(runtime: ServiceRuntime, failure: ModelAdapterLoadFailedV1) -> None:
    await runtime.bus.publisher.publish(failure)


async def _flush(telemetry: TelemetryBuffer, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(telemetry.flush(), timeout)
