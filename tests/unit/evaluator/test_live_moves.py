"""Where new label moves begin: taken at the first start, kept across restarts, taken afresh when the
topic was created again; and the eval id of a move."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from llmops_common.events import PromptLabelMovedV1
from services.evaluator.live_moves import LiveSince, kept_live_since
from services.evaluator.prompt_outcome import prompt_eval_id


def test_the_first_start_keeps_the_topic_end_and_later_starts_reuse_it(tmp_path: Path) -> None:
    path = tmp_path / "state" / "prompt-moves.json"

    first = kept_live_since(path, {0: 40})
    restarted = kept_live_since(path, {0: 55})

    assert first == restarted == LiveSince({0: 40})
    assert (restarted.includes(0, 39), restarted.includes(0, 40), restarted.includes(1, 0)) == (False, True, True)


def test_a_topic_that_ends_before_the_kept_position_was_created_again(tmp_path: Path) -> None:
    path = tmp_path / "prompt-moves.json"
    kept_live_since(path, {0: 40})

    assert kept_live_since(path, {0: 3}) == LiveSince({0: 3})
    assert kept_live_since(path, {0: 9}) == LiveSince({0: 3})


def move(name: str, change_id: str) -> PromptLabelMovedV1:
    return PromptLabelMovedV1(
        tenant="acme",
        name=name,
        label="staging",
        version=2,
        moved_by="k1",
        moved_at=datetime(2026, 1, 1, tzinfo=UTC),
        change_id=change_id,
    )


def test_the_eval_id_names_the_move_and_is_hashed_when_too_long() -> None:
    assert prompt_eval_id(move("support-answer", "c0ffee")) == "eval-prompt-acme-support-answer-v2-c0ffee"
    long_id = prompt_eval_id(move("x" * 200, "c0ffee"))
    assert long_id == prompt_eval_id(move("x" * 200, "c0ffee"))
    assert long_id.startswith("eval-prompt-")
    assert len(long_id) == len("eval-prompt-") + 64
