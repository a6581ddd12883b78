"""The evaluator's replica of `llmops.prompts`: the prompts, and whether each label move was applied.

The catalog records the outcome of every copy of a change it applies, and a second copy of an applied
move (a producer's retry; the local broker has no idempotent producer) is rejected by its rules, since
the label no longer points where the move saw it. So the catalog alone would say "rejected" once the
second copy is in, and the move would never be evaluated. This replica remembers the first copy's
outcome, which is the move's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from llmops_common.events import Event, PromptLabelMovedV1
from llmops_common.kafka.envelope import Envelope
from llmops_common.prompts.catalog import PromptCatalog
from llmops_common.prompts.rendering import PromptRenderer, render_limits
from llmops_common.prompts.replica import PromptReplica
from llmops_common.service.replicas import running_replica
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.topics import PROMPTS


class LabelMoveOutcomes:
    """Applies the topic to a catalog, and keeps whether the first copy of each label move was applied."""

    def __init__(self, catalog: PromptCatalog) -> None:
        self._catalog = catalog
        self._applied: dict[str, bool] = {}

    def apply(self, event: Event, envelope: Envelope) -> None:
        """Applies one event in log order (a `TopicReplica` callback)."""
        self._catalog.apply(event, envelope)
        if isinstance(event, PromptLabelMovedV1):
            self._applied.setdefault(event.change_id, self._catalog.outcome(event.change_id) is True)

    def applied(self, change_id: str) -> bool | None:
        """Whether the move was applied; None while the replica has not reached it."""
        return self._applied.get(change_id)


@dataclass(frozen=True)
class EvaluatorPrompts:
    """The prompt replica (catalog, renderer, topic) and the label moves' outcomes."""

    replica: PromptReplica
    moves: LabelMoveOutcomes


@asynccontextmanager
async def running_evaluator_prompts(runtime: ServiceRuntime, *, poll_wait_ms: int) -> AsyncIterator[EvaluatorPrompts]:
    """`running_prompt_replica`, with the moves' outcomes kept beside the catalog: replays every prompt,
    then follows the topic for as long as the block lasts; `/readyz` checks it."""
    catalog = PromptCatalog()
    moves = LabelMoveOutcomes(catalog)
    async with running_replica(runtime, PROMPTS, moves.apply, poll_wait_ms=poll_wait_ms) as topic:
        yield EvaluatorPrompts(
            PromptReplica(catalog, PromptRenderer(catalog, limits=render_limits(runtime.settings)), topic), moves
        )
