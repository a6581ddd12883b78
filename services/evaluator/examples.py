"""The examples an evaluation scores: a dataset version's held-out split and the model's eval sets.

The held-out split is the one ingestion assigned by a hash of each example's content, so no example
the candidate trained on is scored; an eval-set example that also sits in the training split is left
out for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_common.dataset_rows import has_templated_prompt

Message = dict[str, str]


@dataclass(frozen=True)
class EvalExample:
    """One question with the answer it should get; `messages` end where the answer starts."""

    example_sha256: str
    messages: tuple[tuple[str, str], ...]
    reference: str
    source: str
    templated_prompt: str | None = None
    """The prompt exactly as a model server gave it to its engine (a correction of a served request)."""

    def chat(self) -> list[Message]:
        """The messages as the chat template takes them."""
        return [{"role": role, "content": content} for role, content in self.messages]

    def prompt_text(self, render_chat: Callable[[list[Message]], str]) -> str:
        """The text the engine answers: the templated prompt as it came, else the messages templated."""
        return self.templated_prompt if self.templated_prompt is not None else render_chat(self.chat())


def example_of(row: Mapping[str, Any], source: str) -> EvalExample | None:
    """A dataset row as an eval example; None for a row with no answer to compare with."""
    messages = row.get("messages")
    if messages:
        last = len(messages) - 1
        while last >= 0 and messages[last]["role"] != "assistant":
            last -= 1
        if last <= 0:
            return None
        context = tuple((m["role"], m["content"]) for m in messages[:last])
        return EvalExample(row["example_sha256"], context, messages[last]["content"], source)
    if not row.get("prompt") or not row.get("completion"):
        return None
    templated = row["prompt"] if has_templated_prompt(row) else None
    return EvalExample(row["example_sha256"], (("user", row["prompt"]),), row["completion"], source, templated)


def held_out_examples(
    dataset_rows: Sequence[Mapping[str, Any]],
    eval_sets: Iterable[tuple[str, Sequence[Mapping[str, Any]]]],
    *,
    limit: int,
) -> list[EvalExample]:
    """The dataset's eval split, then each eval set's rows, minus anything trained on; at most `limit`."""
    trained = {row["example_sha256"] for row in dataset_rows if row["split"] == "train"}
    chosen: dict[str, EvalExample] = {}
    sources = [("held-out", [row for row in dataset_rows if row["split"] == "eval"]), *eval_sets]
    for source, rows in sources:
        for row in sorted(rows, key=lambda r: str(r["example_sha256"])):
            example = example_of(row, source)
            if example is not None and example.example_sha256 not in trained:
                chosen.setdefault(example.example_sha256, example)
    return list(chosen.values())[:limit]
