"""The ingestion service's app: its pipeline on `llmops.data.raw`, its store, its key ring and its routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.service.app import create_service_app
from llmops_common.service.runtime import ServiceRuntime

from .api import router
from .handlers import subscribe
from .pipeline.config import PipelineSettings
from .pipeline.pipeline import IngestionPipeline
from .service import Ingestion
from .settings import Settings
from .store import IngestionStore


@dataclass(frozen=True)
class Deps:
    """What the ingestion service's handlers and routes use."""

    runtime: ServiceRuntime
    settings: Settings
    keyring: KeyRing
    ingestion: Ingestion


def create_app(settings: Settings) -> FastAPI:
    """The ingestion service's HTTP app; its lifespan opens the store and subscribes the pipeline."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        store = IngestionStore(settings.state_dir / "ingestion.sqlite")
        try:
            async with running_key_ring(runtime) as keyring:
                pipeline = IngestionPipeline(PipelineSettings(max_indexed_records=settings.ingest_dedup_index_records))
                ingestion = Ingestion(pipeline, store, runtime.bus.publisher)
                subscribe(runtime.bus.consumer, ingestion)
                yield Deps(runtime, settings, keyring, ingestion)
        finally:
            store.close()

    return create_service_app(settings, open_deps, routers=[router])
