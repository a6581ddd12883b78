"""The monitor's app: its ClickHouse store (migrated at start), the telemetry sink, the detectors, the canary
analysis and its HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.kafka.batch_consumer import BatchConsumer
from llmops_common.service.app import create_service_app
from llmops_common.service.owned_store import owned_store
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store
from llmops_common.topics import MODELS_LIFECYCLE, TopicSpec

from .alerting import Alerting
from .alerts_api import router as alerts_router
from .api import router as api_router
from .canary_api import router as canary_router
from .canary_watch import CanaryWatch, running_canary_watch
from .monitoring import running_alerting
from .settings import Settings
from .sink import PreparedBatch
from .sink_runner import profile_reader, running_sink
from .sql_api import router as sql_router
from .telemetry_rows import telemetry_routes


@dataclass(frozen=True)
class Deps:
    """What the monitor's handlers and routes use."""

    runtime: ServiceRuntime
    settings: Settings
    telemetry: TelemetryStore
    keyring: KeyRing
    sink: BatchConsumer[PreparedBatch]
    alerting: Alerting
    canaries: CanaryWatch
    sql_slots: asyncio.Semaphore
    """One per ops SQL query in progress (`settings.sql_max_concurrent_queries`)."""


def create_app(settings: Settings, *, lifecycle_topic: TopicSpec = MODELS_LIFECYCLE) -> FastAPI:
    """The monitor's HTTP app; its lifespan opens the store, replays the API keys and starts the sink.

    The canary analysis follows and publishes to `lifecycle_topic` (a test gives one of its own).
    """

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        telemetry = open_telemetry_store(settings, settings.state_dir)
        with owned_store(runtime, "clickhouse", telemetry, telemetry.ping):
            routes = telemetry_routes(profile_reader(open_artifact_store(settings)))
            async with (
                running_key_ring(runtime) as keyring,
                running_sink(
                    settings,
                    telemetry,
                    routes,
                    broker=runtime.bus.broker,
                    registry=runtime.registry,
                    limits=settings.sink_limits(),
                ) as sink,
                running_alerting(runtime, settings, telemetry) as alerting,
                running_canary_watch(runtime, settings, telemetry, topic=lifecycle_topic) as canaries,
            ):
                runtime.readiness.add("telemetry_sink", lambda: sink.running)
                slots = asyncio.Semaphore(settings.sql_max_concurrent_queries)
                yield Deps(runtime, settings, telemetry, keyring, sink, alerting, canaries, slots)

    routers = [api_router, alerts_router, canary_router, sql_router]
    return create_service_app(settings, open_deps, routers=routers)
