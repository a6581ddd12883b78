"""A prompt's eval-set rows rendered through each version: variables from metadata, the reference from the
completion, rows one version cannot render left out for all, and a stable order."""

from __future__ import annotations

from typing import Any

from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import PromptVariable
from llmops_common.prompts.templates import compile_prompt
from services.evaluator.prompt_examples import prompt_examples, reference_of

CHAT = compile_prompt(
    "chat",
    None,
    [
        ChatMessage(role="system", content="You help with {{ product }}."),
        ChatMessage(role="user", content="{{ question }}"),
    ],
    [PromptVariable(name="product"), PromptVariable(name="question")],
)
TEXT = compile_prompt("text", "Q: {{ question }}\nA:", None, [PromptVariable(name="question")])


def row(sha: str, metadata: dict[str, Any], completion: str | None = "T-1", **extra: Any) -> dict[str, Any]:
    return {
        "example_sha256": sha,
        "record_id": f"r-{sha}",
        "split": "train",
        "prompt": f"question {sha}",
        "completion": completion,
        "messages": None,
        "metadata": metadata,
        **extra,
    }


def test_each_version_takes_the_variables_it_declares_and_text_prompts_become_a_user_message() -> None:
    rows = [row("b", {"product": "Ledger", "question": "Which ticket?", "user_id": "u1"})]

    [example] = prompt_examples(rows, [CHAT, TEXT], limit=10).examples

    assert example.chats == (
        [{"role": "system", "content": "You help with Ledger."}, {"role": "user", "content": "Which ticket?"}],
        [{"role": "user", "content": "Q: Which ticket?\nA:"}],
    )
    assert (example.example_sha256, example.shown, example.reference) == ("b", "question b", "T-1")


def test_a_row_one_version_cannot_render_is_left_out_for_all_with_the_reason() -> None:
    rows = [
        row("c", {"question": "Only a question"}),
        row("a", {"product": "Atlas", "question": "Both"}),
        row("d", {"product": "Atlas", "question": "No answer"}, completion=None),
    ]

    result = prompt_examples(rows, [TEXT, CHAT], limit=10)

    assert [example.example_sha256 for example in result.examples] == ["a"]
    assert result.left_out == [
        "r-c: variables do not fit the prompt: missing product",
        "r-d: no completion or assistant message to compare with",
    ]


def test_rows_come_in_hash_order_up_to_the_limit() -> None:
    rows = [row(sha, {"question": sha}) for sha in ("c", "a", "b")]

    assert [e.example_sha256 for e in prompt_examples(rows, [TEXT], limit=2).examples] == ["a", "b"]


def test_a_chat_row_is_answered_by_its_last_assistant_message() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "first"},
        {"role": "user", "content": "and?"},
        {"role": "assistant", "content": "second"},
    ]

    assert reference_of(row("a", {}, completion=None, messages=messages)) == "second"
    assert reference_of(row("a", {}, completion=None)) is None
