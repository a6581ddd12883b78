"""The ingestion service's app: its pipeline on `llmops.data.raw`, its store, its key ring and its routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.events import CollectionsListedV1
from llmops_common.kafka.request_reply import Requester
from llmops_common.service.app import create_service_app
from llmops_common.service.background import running_in_background
from llmops_common.service.body_guard import GuardedBodies
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import RETRIEVAL_REPLIES

from . import collections_api, datasets_api, erasures_api
from .api import router
from .collection_catalog import AskRetriever, CollectionCatalog, retriever_asker
from .erasure import Eraser
from .handlers import subscribe
from .pipeline.config import PipelineSettings
from .pipeline.dedup_state import DedupState
from .pipeline.pipeline import IngestionPipeline
from .seal_policy import SealPolicy, run_policy
from .sealing import DatasetSealer
from .service import Ingestion
from .settings import Settings
from .store import IngestionStore
from .token_counting import open_token_counter


@dataclass(frozen=True)
class Deps:
    """What the ingestion service's handlers and routes use."""

    runtime: ServiceRuntime
    settings: Settings
    keyring: KeyRing
    ingestion: Ingestion
    sealer: DatasetSealer
    eraser: Eraser
    collections: CollectionCatalog
    ingest_slots: asyncio.Semaphore
    """One per `POST /v1/ingest` in progress (`settings.ingest_max_concurrent_requests`)."""


def create_app(settings: Settings) -> FastAPI:
    """The ingestion service's HTTP app; its lifespan opens the store and subscribes the pipeline."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        tokens = open_token_counter(settings.ingest_profile_tokenizer)
        artifacts = open_artifact_store(settings)
        runtime.readiness.add("artifacts", lambda: asyncio.to_thread(artifacts.ping))
        pipeline_settings = PipelineSettings(max_indexed_records=settings.ingest_dedup_index_records)
        store = IngestionStore(settings.state_dir / "ingestion.sqlite")
        dedup_state = DedupState(settings.state_dir / "dedup.sqlite", pipeline_settings)
        try:
            async with running_key_ring(runtime) as keyring:
                pipeline = IngestionPipeline(pipeline_settings, dedup_state=dedup_state)
                ingestion = Ingestion(pipeline, store, runtime.bus.publisher)
                sealer = DatasetSealer(store, artifacts, runtime.bus.publisher, tokens)
                eraser = Eraser(store, pipeline, runtime.bus.publisher, sealer.lock)
                asker = _retriever_asker(runtime, settings)
                collections = CollectionCatalog(store, pipeline, runtime.bus.publisher, asker)
                subscribe(runtime.bus.consumer, ingestion)
                async with _seal_policy_running(settings, store, sealer), _flushing(dedup_state):
                    slots = asyncio.Semaphore(settings.ingest_max_concurrent_requests)
                    yield Deps(runtime, settings, keyring, ingestion, sealer, eraser, collections, slots)
        finally:
            dedup_state.close()
            store.close()

    guarded = GuardedBodies(settings.ingest_max_body_bytes)
    routers = [router, datasets_api.router, erasures_api.router, collections_api.router]
    return create_service_app(settings, open_deps, routers=routers, guarded_bodies=guarded)


def _retriever_asker(runtime: ServiceRuntime, settings: Settings) -> AskRetriever:
    """Asks the retriever for a tenant's collections; built before the broker starts, as a requester must be."""
    requester = Requester(
        runtime.bus.broker,
        runtime.bus.publisher,
        RETRIEVAL_REPLIES.name,
        CollectionsListedV1,
        fetch_max_wait_ms=settings.kafka_request_fetch_wait_ms,
    )
    return retriever_asker(requester, settings.ingest_collections_timeout_seconds)


DEDUP_FLUSH_SECONDS = 1.0
"""The longest a kept record's dedup slot waits to be committed to disk."""


@asynccontextmanager
async def _flushing(dedup_state: DedupState) -> AsyncIterator[None]:
    """Commits the dedup index's open changes every second, so a quiet stream loses nothing to a crash."""

    async def flush_now_and_then() -> None:
        while True:
            await asyncio.sleep(DEDUP_FLUSH_SECONDS)
            dedup_state.flush()

    async with running_in_background(flush_now_and_then()):
        yield


@asynccontextmanager
async def _seal_policy_running(settings: Settings, store: IngestionStore, sealer: DatasetSealer) -> AsyncIterator[None]:
    """Runs the size and age policy in the background while the service runs, when a rule is on."""
    policy = SealPolicy(settings.ingest_seal_max_pending_examples, settings.ingest_seal_max_age_seconds)
    if not policy.enabled:
        yield
        return
    async with running_in_background(run_policy(policy, store.ledger, sealer, settings.ingest_seal_check_seconds)):
        yield
