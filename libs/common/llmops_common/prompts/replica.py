"""A service's own replica of `llmops.prompts`: how the model server and the evaluator resolve prompts,
without ever calling the registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..kafka.replica import POLL_WAIT_MS, TopicReplica
from ..service.replicas import running_replica
from ..service.runtime import ServiceRuntime
from ..topics import PROMPTS
from .catalog import PromptCatalog
from .rendering import PromptRenderer, render_limits


@dataclass(frozen=True)
class PromptReplica:
    """The prompts as the topic has them, a renderer over them, and the replica that keeps them current."""

    catalog: PromptCatalog
    renderer: PromptRenderer
    topic: TopicReplica


@asynccontextmanager
async def running_prompt_replica(
    runtime: ServiceRuntime, *, replay_timeout: float = 60.0, poll_wait_ms: int = POLL_WAIT_MS
) -> AsyncIterator[PromptReplica]:
    """Replays every prompt, then follows the topic for as long as the block lasts; `/readyz` checks it."""
    catalog = PromptCatalog()
    async with running_replica(
        runtime, PROMPTS, catalog.apply, replay_timeout=replay_timeout, poll_wait_ms=poll_wait_ms
    ) as replica:
        yield PromptReplica(catalog, PromptRenderer(catalog, limits=render_limits(runtime.settings)), replica)


@dataclass(frozen=True)
class PromptReplicaDeps:
    """The deps of a service whose work so far needs the bus and the prompts: the runtime and its replica."""

    runtime: ServiceRuntime
    prompts: PromptReplica


@asynccontextmanager
async def open_prompt_replica_deps(runtime: ServiceRuntime) -> AsyncIterator[PromptReplicaDeps]:
    """A `DepsFactory` that replays the prompts before the service takes traffic."""
    async with running_prompt_replica(runtime) as prompts:
        yield PromptReplicaDeps(runtime, prompts)
