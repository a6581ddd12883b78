"""The feedback collector's app: its request store, its key ring, its subscription and its routes."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.errors import LlmopsError
from llmops_common.service.app import create_service_app
from llmops_common.service.background import running_in_background
from llmops_common.service.body_guard import GuardedBodies
from llmops_common.service.runtime import ServiceRuntime

from .api import router
from .handlers import subscribe
from .service import FeedbackCollector
from .settings import Settings
from .store import Clock, FeedbackStore

log = logging.getLogger(__name__)


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
                async with running_in_background(finish_interrupted(runtime, collector)):
                    yield Deps(runtime, settings, keyring, store, collector)
        finally:
            store.close()

    guarded = GuardedBodies(settings.feedback_max_body_bytes)
    return create_service_app(settings, open_deps, routers=[router], guarded_bodies=guarded)


async def finish_interrupted(runtime: ServiceRuntime, collector: FeedbackCollector) -> None:
    """Publishes the feedback that attempts stopped by a crash wrote down but may not have published."""
    try:
        await runtime.bus.broker.connect()  # the runtime starts it after the deps open; twice is a no-op
        finished = await collector.finish_interrupted()
    except (LlmopsError, KafkaError, OSError) as error:
        # Still written down: the client's retry or the next start publishes it.
        log.warning("feedback left by interrupted attempts not published yet: %r", error)
        return
    if finished:
        log.info("published %d feedback left by interrupted attempts", finished)
