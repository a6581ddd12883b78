"""Training examples: the prompt is what the server renders, the loss covers the completion only, and
long examples are cut or dropped as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from services.trainer.examples import (
    IGNORE_INDEX,
    PaddingCollator,
    TokenizedExample,
    prompt_and_completion,
    tokenize_rows,
)
from tests.support.training_rows import dataset_row


@pytest.fixture(scope="module")
def chat(tiny_model: Path) -> HFChatTokenizer:
    return HFChatTokenizer.from_pretrained(str(tiny_model))


def ids(chat: HFChatTokenizer, text: str) -> list[int]:
    return list(chat.hf(text, add_special_tokens=False)["input_ids"])


def test_a_prompt_row_is_rendered_as_the_server_renders_a_user_message(chat: HFChatTokenizer) -> None:
    row = dataset_row(prompt="How do I reset my password?", completion="Open Settings.")
    prompt, completion = prompt_and_completion(row, chat) or ("", "")
    assert prompt == chat.render_chat([{"role": "user", "content": "How do I reset my password?"}])
    assert completion == "Open Settings."


def test_a_chat_row_learns_its_last_assistant_message(chat: HFChatTokenizer) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Export my data?"},
        {"role": "assistant", "content": "Open Settings, then Export."},
        {"role": "user", "content": "Thanks"},
    ]
    prompt, completion = prompt_and_completion(dataset_row(messages=messages), chat) or ("", "")
    assert prompt == chat.render_chat(messages[:4])
    assert completion == "Open Settings, then Export."


def test_the_loss_covers_exactly_the_completion_and_the_end_token(chat: HFChatTokenizer) -> None:
    row = dataset_row(prompt="How do I export my data?", completion="Open Settings, then Export.")
    dataset = tokenize_rows([row], chat, chat.hf, max_seq_length=256)
    [example] = dataset.examples
    prompt_ids = ids(chat, chat.render_chat([{"role": "user", "content": "How do I export my data?"}]))
    completion_ids = [*ids(chat, "Open Settings, then Export."), chat.hf.eos_token_id]
    assert list(example.input_ids) == prompt_ids + completion_ids
    assert list(example.labels) == [IGNORE_INDEX] * len(prompt_ids) + completion_ids
    assert (example.prompt_tokens, example.completion_tokens) == (len(prompt_ids), len(completion_ids))
    assert dataset.counts() == {
        "rows": 1,
        "examples": 1,
        "truncated": 0,
        "dropped_too_long": 0,
        "dropped_no_completion": 0,
    }


def test_a_long_example_keeps_its_prompt_and_loses_the_end_of_its_completion(chat: HFChatTokenizer) -> None:
    row = dataset_row(prompt="Hi", completion="Open Settings and choose Billing. " * 20)
    prompt_tokens = len(ids(chat, chat.render_chat([{"role": "user", "content": "Hi"}])))
    dataset = tokenize_rows([row], chat, chat.hf, max_seq_length=prompt_tokens + 5)
    [example] = dataset.examples
    assert len(example.input_ids) == prompt_tokens + 5
    assert example.labels[:prompt_tokens] == (IGNORE_INDEX,) * prompt_tokens
    assert example.labels[prompt_tokens:] == example.input_ids[prompt_tokens:]
    assert dataset.truncated == 1


def test_rows_without_a_completion_token_left_are_dropped_and_counted(chat: HFChatTokenizer) -> None:
    long_prompt = dataset_row(prompt="Please help " * 40, completion="Sure.")
    no_answer = dataset_row(messages=[{"role": "user", "content": "Hello?"}])
    empty = dataset_row(prompt="Hi", completion="")
    kept = dataset_row(prompt="Hi", completion="Hello.")
    dataset = tokenize_rows([long_prompt, no_answer, empty, kept], chat, chat.hf, max_seq_length=32)
    assert len(dataset.examples) == 1
    assert (dataset.rows, dataset.dropped_too_long, dataset.dropped_no_completion) == (4, 1, 2)


def test_the_collator_pads_on_the_right_and_masks_the_pads() -> None:
    short = TokenizedExample(input_ids=(5, 6, 7), labels=(IGNORE_INDEX, 6, 7), prompt_tokens=1)
    long = TokenizedExample(input_ids=(5, 6, 7, 8, 9), labels=(IGNORE_INDEX, IGNORE_INDEX, 7, 8, 9), prompt_tokens=2)
    batch = PaddingCollator(pad_token_id=0)([short, long])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]]
    ignored = IGNORE_INDEX
    assert batch["labels"].tolist() == [[ignored, 6, 7, ignored, ignored], [ignored, ignored, 7, 8, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert all(tensor.dtype == torch.long for tensor in batch.values())


def test_a_prompt_the_server_already_templated_is_taken_as_it_is(chat: HFChatTokenizer) -> None:
    served = chat.render_chat([{"role": "user", "content": "Hi"}])
    row = dataset_row(prompt=served, completion="Hello.")
    row["metadata"] = {"prompt_format": "templated"}
    assert prompt_and_completion(row, chat) == (served, "Hello.")
