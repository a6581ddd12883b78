"""The RAG retriever's app: the embedding model and the chunk index, fed by documents, answering requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.service.app import create_service_app
from llmops_common.service.runtime import ServiceRuntime

from .handlers import RetrieverHandlers
from .retriever import Retriever, open_retriever
from .settings import Settings


@dataclass(frozen=True)
class Deps:
    """What the retriever's handlers use."""

    runtime: ServiceRuntime
    retriever: Retriever


def create_app(settings: Settings) -> FastAPI:
    """The retriever's HTTP app; its lifespan loads the model, opens the index and subscribes."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        retriever = open_retriever(settings.retriever_config(), settings, settings.state_dir)
        handlers = RetrieverHandlers(retriever, runtime.bus.publisher)
        runtime.readiness.add("vector_index", retriever.index.ready)
        try:
            handlers.subscribe(runtime.bus.consumer)
            yield Deps(runtime, retriever)
        finally:
            handlers.close()
            retriever.close()

    return create_service_app(settings, open_deps)
