"""The monitor's app: its ClickHouse store (migrated at start), the telemetry sink and its HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.kafka.batch_consumer import BatchConsumer, BatchLimits
from llmops_common.service.app import create_service_app
from llmops_common.service.owned_store import owned_store
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store

from .api import router as api_router
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
    sink: BatchConsumer[PreparedBatch]


def open_deps_for(settings: Settings):  # type: ignore[no-untyped-def]
    """The monitor's `DepsFactory`: its settings are the monitor's own, not just the platform's."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        telemetry = open_telemetry_store(runtime.settings, runtime.settings.state_dir)
        with owned_store(runtime, "clickhouse", telemetry, telemetry.ping):
            routes = telemetry_routes(profile_reader(open_artifact_store(settings)))
            limits = BatchLimits(settings.sink_batch_rows, settings.sink_batch_seconds, settings.sink_fetch_records)
            async with running_sink(
                settings, telemetry, routes, broker=runtime.bus.broker, registry=runtime.registry, limits=limits
            ) as sink:
                runtime.readiness.add("telemetry_sink", lambda: sink.running)
                yield Deps(runtime, settings, telemetry, sink)

    return open_deps


def create_app(settings: Settings) -> FastAPI:
    """The monitor's HTTP app, with a lifespan that opens its store and starts the sink."""
    return create_service_app(settings, open_deps_for(settings), routers=[api_router, sql_router])
