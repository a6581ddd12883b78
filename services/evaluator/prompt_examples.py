"""A prompt's eval set as examples: each row rendered through every prompt version being compared.

A row of the eval set gives the template's variables in its `metadata`, and the answer it should get in
its `completion` (or, for a chat row, its last assistant message). Only the metadata keys a version
declares are passed to it, so metadata may carry other things, and two versions may declare different
variables. The row's `prompt` is not rendered: it is what the report shows as the example's input, and it
keeps rows with the same reference apart (ingestion deduplicates on prompt and completion, not on
metadata). Every row counts, whatever its split: nothing trains on an eval set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_common.prompts.templates import CompiledPrompt, RenderError

from .examples import Message


@dataclass(frozen=True)
class PromptExample:
    """One eval-set row: what the report shows, the reference, and each version's rendered chat."""

    example_sha256: str
    shown: str
    reference: str
    chats: tuple[list[Message], ...]
    """One chat per version, in the order the versions were given."""


@dataclass(frozen=True)
class PromptExamples:
    """The examples every version could render, and one line per row left out, saying why."""

    examples: list[PromptExample]
    left_out: list[str]


def rendered_chat(prompt: CompiledPrompt, metadata: Mapping[str, Any]) -> list[Message]:
    """The messages a model gets for this prompt version and these variables: a chat prompt's rendered
    messages, or a text prompt as one user message (as the model server sends a referenced text prompt
    in a chat request). Raises `RenderError` when the variables do not fit."""
    rendered = prompt.render({name: metadata[name] for name in prompt.variables if name in metadata})
    if rendered.messages is not None:
        return [{"role": message.role, "content": message.content} for message in rendered.messages]
    return [{"role": "user", "content": rendered.text or ""}]


def reference_of(row: Mapping[str, Any]) -> str | None:
    """The answer a row expects: its completion, else its last assistant message; None if it has none."""
    if row.get("completion"):
        return str(row["completion"])
    answers = [message["content"] for message in row.get("messages") or () if message["role"] == "assistant"]
    return str(answers[-1]) if answers and answers[-1] else None


def prompt_examples(
    rows: Sequence[Mapping[str, Any]], versions: Sequence[CompiledPrompt], *, limit: int
) -> PromptExamples:
    """Up to `limit` rows, in a stable order (by content hash), that every version renders.

    A row that one version cannot render is left out for all of them, so the versions are still compared
    on the same examples; so is a row without a reference.
    """
    examples: list[PromptExample] = []
    left_out: list[str] = []
    for row in sorted(rows, key=lambda r: str(r["example_sha256"])):
        if len(examples) == limit:
            break
        reference = reference_of(row)
        if reference is None:
            left_out.append(f"{row['record_id']}: no completion or assistant message to compare with")
            continue
        metadata = row.get("metadata") or {}
        try:
            chats = tuple(rendered_chat(version, metadata) for version in versions)
        except RenderError as error:
            left_out.append(f"{row['record_id']}: {error}")
            continue
        shown = row.get("prompt") or (chats[0][-1]["content"] if chats and chats[0] else "")
        examples.append(PromptExample(str(row["example_sha256"]), str(shown), reference, chats))
    return PromptExamples(examples, left_out)
