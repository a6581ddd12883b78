"""The RAG retriever's app: for now its frame (bus, health, metrics) and its Qdrant vector store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from qdrant_client import QdrantClient

from llmops_common.service.app import create_service_app
from llmops_common.service.owned_store import owned_store
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.vectors import open_vector_store, vector_store_ready

from .settings import Settings


@dataclass(frozen=True)
class Deps:
    """What the retriever's handlers and routes use."""

    runtime: ServiceRuntime
    vectors: QdrantClient


@asynccontextmanager
async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
    """Opens the vector store (the retriever owns it: embedded Qdrant allows one process)."""
    vectors = open_vector_store(runtime.settings, runtime.settings.state_dir)
    with owned_store(runtime, "qdrant", vectors, lambda: vector_store_ready(vectors)):
        yield Deps(runtime, vectors)


def create_app(settings: Settings) -> FastAPI:
    """The retriever's HTTP app, with a lifespan that opens its store and connects it to Kafka."""
    return create_service_app(settings, open_deps)
