"""A service's budget blocklist, kept current from `llmops.budgets`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..events import BudgetExceededV1, BudgetResetV1, Event
from ..kafka.envelope import Envelope
from ..kafka.replica import POLL_WAIT_MS
from ..service.replicas import running_replica
from ..service.runtime import ServiceRuntime
from ..topics import BUDGETS, TopicSpec
from .blocklist import BudgetBlocklist


@asynccontextmanager
async def running_budget_blocklist(
    runtime: ServiceRuntime,
    *,
    replay_timeout: float = 60.0,
    topic: TopicSpec = BUDGETS,
    poll_wait_ms: int = POLL_WAIT_MS,
) -> AsyncIterator[BudgetBlocklist]:
    """A blocklist that has replayed every budget event and follows the topic while the block lasts."""
    blocklist = BudgetBlocklist()

    def apply(event: Event, envelope: Envelope) -> None:
        if isinstance(event, BudgetExceededV1 | BudgetResetV1):
            blocklist.apply(event)

    async with running_replica(runtime, topic, apply, replay_timeout=replay_timeout, poll_wait_ms=poll_wait_ms):
        yield blocklist
