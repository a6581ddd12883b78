"""The model server's app: for now its frame (bus, health, metrics) and its replica of the prompts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from llmops_common.prompts.replica import PromptReplica, running_prompt_replica
from llmops_common.service.app import create_service_app
from llmops_common.service.runtime import ServiceRuntime

from .settings import Settings


@dataclass(frozen=True)
class Deps:
    """What the model server's handlers and routes use."""

    runtime: ServiceRuntime
    prompts: PromptReplica


@asynccontextmanager
async def open_deps(runtime: ServiceRuntime) -> AsyncIterator[Deps]:
    """Replays the prompts: the model server resolves prompt references from its own replica."""
    async with running_prompt_replica(runtime) as prompts:
        yield Deps(runtime, prompts)


def create_app(settings: Settings) -> FastAPI:
    """The model server's HTTP app, with a lifespan that replays the prompts and connects it to Kafka."""
    return create_service_app(settings, open_deps)
