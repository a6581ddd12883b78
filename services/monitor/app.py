"""The monitor's app: for now its frame (bus, health, metrics) and its ClickHouse store, migrated at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.service.app import create_service_app
from llmops_common.service.owned_store import owned_store
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store

from .settings import Settings


@dataclass(frozen=True)
class Deps:
    """What the monitor's handlers and routes use."""

    runtime: ServiceRuntime
    telemetry: TelemetryStore


@asynccontextmanager
async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
    """Opens the telemetry store (the monitor owns it: embedded chdb allows one process)."""
    telemetry = open_telemetry_store(runtime.settings, runtime.settings.state_dir)
    with owned_store(runtime, "clickhouse", telemetry, telemetry.ping):
        yield Deps(runtime, telemetry)


def create_app(settings: Settings) -> FastAPI:
    """The monitor's HTTP app, with a lifespan that opens its store and connects it to Kafka."""
    return create_service_app(settings, open_deps)
