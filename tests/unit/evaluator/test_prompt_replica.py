"""The evaluator's record of label moves: a move's outcome is its first copy's, so a second copy of an
applied move (which the catalog's rules reject) does not hide it, and a rejected move stays rejected."""

from __future__ import annotations

from datetime import UTC, datetime

from llmops_common.events import PromptLabelMovedV1, PromptVersionCreatedV1
from llmops_common.kafka.envelope import new_envelope
from llmops_common.prompts.catalog import PromptCatalog
from services.evaluator.prompt_replica import LabelMoveOutcomes

AT = datetime(2026, 1, 1, tzinfo=UTC)


def version(number: int) -> PromptVersionCreatedV1:
    return PromptVersionCreatedV1(
        tenant="acme", name="faq", version=number, kind="text", template="Q", author="k1", created_at=AT
    )


def move(to: int, previous: int | None, change_id: str) -> PromptLabelMovedV1:
    return PromptLabelMovedV1(
        tenant="acme",
        name="faq",
        label="staging",
        version=to,
        previous_version=previous,
        moved_by="k1",
        moved_at=AT,
        change_id=change_id,
    )


def test_a_second_copy_of_an_applied_move_keeps_it_applied_and_a_stale_move_is_rejected() -> None:
    catalog = PromptCatalog()
    outcomes = LabelMoveOutcomes(catalog)
    first, stale = move(2, None, "first"), move(1, None, "stale")

    for event in (version(1), version(2), first, first, stale):
        outcomes.apply(event, new_envelope(event, "prompt_registry"))

    assert catalog.outcome("first") is False  # the catalog keeps the last copy's outcome
    assert (outcomes.applied("first"), outcomes.applied("stale"), outcomes.applied("unseen")) == (True, False, None)
    assert catalog.get("acme", "faq", label="staging").version == 2
