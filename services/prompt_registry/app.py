"""The prompt registry's app: its replica of `llmops.prompts`, its key ring, its writer and its routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.auth.keyring import KeyRing
from llmops_common.auth.replica import running_key_ring
from llmops_common.prompts.catalog import PromptCatalog
from llmops_common.prompts.rendering import PromptRenderer
from llmops_common.prompts.replica import running_prompt_replica
from llmops_common.service.app import create_service_app
from llmops_common.service.body_guard import GuardedBodies
from llmops_common.service.runtime import ServiceRuntime

from .api import router
from .service import PromptWriter
from .settings import Settings


@dataclass(frozen=True)
class Deps:
    """What the registry's routes use."""

    runtime: ServiceRuntime
    settings: Settings
    catalog: PromptCatalog
    keyring: KeyRing
    writer: PromptWriter
    renderer: PromptRenderer


def create_app(settings: Settings) -> FastAPI:
    """The registry's HTTP app; it replays the prompts and the API keys before it takes traffic."""

    @asynccontextmanager
    async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
        timeout = settings.prompt_replay_timeout_seconds
        async with (
            running_key_ring(runtime, replay_timeout=timeout) as keyring,
            running_prompt_replica(runtime, replay_timeout=timeout) as prompts,
        ):
            writer = PromptWriter(prompts.catalog, prompts.topic, runtime.bus.publisher, settings)
            yield Deps(runtime, settings, prompts.catalog, keyring, writer, prompts.renderer)

    guarded = GuardedBodies(settings.prompt_max_body_bytes)
    return create_service_app(settings, open_deps, routers=[router], guarded_bodies=guarded)
