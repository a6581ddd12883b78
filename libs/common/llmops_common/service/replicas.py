"""A topic replica a service runs: replayed before the service takes traffic, checked by `/readyz`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..kafka.replica import POLL_WAIT_MS, Apply, TopicReplica
from ..topics import TopicSpec
from .runtime import ServiceRuntime


@asynccontextmanager
async def running_replica(
    runtime: ServiceRuntime,
    topic: TopicSpec,
    apply: Apply,
    *,
    replay_timeout: float = 60.0,
    poll_wait_ms: int = POLL_WAIT_MS,
) -> AsyncIterator[TopicReplica]:
    """Starts a replica of `topic`, waits for its replay, and stops it when the block ends.

    `poll_wait_ms` bounds how late a change is seen; a service that needs no read-your-writes can
    poll less often and leave its CPU to its work.
    """
    replica = TopicReplica(runtime.settings, topic, apply, poll_wait_ms=poll_wait_ms)
    await replica.start()
    try:
        await replica.wait_caught_up(replay_timeout)
        runtime.readiness.add(f"replica:{topic.name}", lambda: replica.caught_up)
        yield replica
    finally:
        await replica.close()
