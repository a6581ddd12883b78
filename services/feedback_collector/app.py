"""The feedback collector's app: its request store, its key ring, its subscription and its routes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.service.app import create_service_app
from llmops_common.service.body_guard import GuardedBodies
from llmops_common.service.runtime import ServiceRuntime

from .api import router
from .handlers import subscribe
from .service import FeedbackCollector
from .settings import Settings
from .store import Clock, FeedbackStore


@dataclass(frozen=True)
class Deps:
    """What the collector's handlers and routes use."""

    runtime: ServiceRuntime
    settings: Settings
    keyring: KeyRing
    store: FeedbackStore
    collector: FeedbackCollector


def open_store(settings: Settings, clock: Clock = time.time) -> FeedbackStore:
    """The collector's store in its state folder."""
    return FeedbackStore(
        settings.state_dir / "feedback.sqlite",
        ttl_seconds=settings.feedback_request_ttl_seconds,
        max_requests=settings.feedback_max_requests,
        clock=clock,
    )


def create_app(settings: Settings, clock: Clock = time.time) -> FastAPI:
    """The collector's HTTP app; its lifespan opens the store and learns requests from the telemetry."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        store = open_store(settings, clock)
        try:
            async with running_key_ring(runtime) as keyring:
                collector = FeedbackCollector(store, runtime.bus.publisher, settings)
                subscribe(runtime.bus.consumer, collector)
                yield Deps(runtime, settings, keyring, store, collector)
        finally:
            store.close()

    guarded = GuardedBodies(settings.feedback_max_body_bytes)
    return create_service_app(settings, open_deps, routers=[router], guarded_bodies=guarded)
