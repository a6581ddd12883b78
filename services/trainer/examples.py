"""Dataset rows as token ids and labels, with the loss on the completion's tokens only.

The prompt is rendered by the same `HFChatTokenizer.render_chat` the model server renders a chat
with, so a fine-tune learns to answer exactly the text it will be served. The prompt and the completion
are tokenised apart, as at serving time, where the prompt is encoded alone and the answer is generated
after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from llmops_common.dataset_rows import has_templated_prompt
from llmops_common.engines.hf_tokenizer import HFChatTokenizer

IGNORE_INDEX = -100
"""The label that torch's cross-entropy (and so every transformers model) leaves out of the loss."""


@dataclass(frozen=True)
class TokenizedExample:
    """One training example: `labels` are `input_ids` with the prompt's positions set to IGNORE_INDEX."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        """Tokens the loss is taken on."""
        return len(self.input_ids) - self.prompt_tokens


@dataclass(frozen=True)
class TokenizedDataset:
    """The examples kept, and what happened to the rest."""

    examples: list[TokenizedExample] = field(default_factory=list)
    rows: int = 0
    truncated: int = 0
    """Kept, with the end of the completion cut to fit `max_seq_length`."""
    dropped_too_long: int = 0
    """Left out: the prompt alone fills `max_seq_length`, so no completion token is left to learn."""
    dropped_no_completion: int = 0
    """Left out: no completion (an empty one, or a chat without an assistant message)."""

    @property
    def tokens(self) -> int:
        """Tokens of every kept example, prompt and completion."""
        return sum(len(e.input_ids) for e in self.examples)

    def counts(self) -> dict[str, int]:
        """The counts, for logs, metrics and the model card."""
        return {
            "rows": self.rows,
            "examples": len(self.examples),
            "truncated": self.truncated,
            "dropped_too_long": self.dropped_too_long,
            "dropped_no_completion": self.dropped_no_completion,
        }


def prompt_and_completion(row: Mapping[str, Any], chat: HFChatTokenizer) -> tuple[str, str] | None:
    """The prompt text (as the server renders it) and the completion of a row; None if it has no completion.

    A chat row is trained on its last assistant message, with every message before it as the prompt. A
    prompt the server already templated (a correction of a served request) is taken as it is.
    """
    messages: Sequence[Mapping[str, str]] | None = row.get("messages")
    if messages:
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
        if last is None:
            return None
        history = [{"role": m["role"], "content": m["content"]} for m in messages[:last]]
        return chat.render_chat(history), messages[last]["content"]
    prompt, completion = row.get("prompt"), row.get("completion")
    if prompt is None or completion is None:
        return None
    if has_templated_prompt(row):
        return prompt, completion
    return chat.render_chat([{"role": "user", "content": prompt}]), completion


def tokenize_rows(
    rows: Sequence[Mapping[str, Any]],
    chat_tokenizer: HFChatTokenizer,
    hf_tokenizer: PreTrainedTokenizerBase,
    max_seq_length: int,
) -> TokenizedDataset:
    """Dataset rows as training examples, in row order.

    An example longer than `max_seq_length` keeps its whole prompt and loses the end of its completion:
    the prompt is the context the answer is learnt for, and a prompt cut at its start would begin
    unlike any prompt the server renders. A prompt that leaves no room for a completion token drops
    the example.
    """
    if hf_tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no end-of-sequence token, so a completion could not learn to stop")
    eos = int(hf_tokenizer.eos_token_id)
    examples: list[TokenizedExample] = []
    truncated = dropped_too_long = dropped_no_completion = 0
    for row in rows:
        texts = prompt_and_completion(row, chat_tokenizer)
        if texts is None or not texts[1]:
            dropped_no_completion += 1
            continue
        prompt_ids = list(hf_tokenizer(texts[0], add_special_tokens=False)["input_ids"])
        # The end token is appended as an id, not as text: it is what the model must learn to emit to stop,
        # whatever the completion's last characters would merge into.
        completion_ids = [*hf_tokenizer(texts[1], add_special_tokens=False)["input_ids"], eos]
        room = max_seq_length - len(prompt_ids)
        if room <= 0:
            dropped_too_long += 1
            continue
        if len(completion_ids) > room:
            completion_ids = completion_ids[:room]
            truncated += 1
        examples.append(
            TokenizedExample(
                input_ids=(*prompt_ids, *completion_ids),
                labels=(*[IGNORE_INDEX] * len(prompt_ids), *completion_ids),
                prompt_tokens=len(prompt_ids),
            )
        )
    return TokenizedDataset(examples, len(rows), truncated, dropped_too_long, dropped_no_completion)


class ExampleDataset(torch.utils.data.Dataset[TokenizedExample]):
    """Tokenised examples as the map-style dataset Trainer's data loader indexes."""

    def __init__(self, examples: Sequence[TokenizedExample]) -> None:
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> TokenizedExample:
        return self.examples[index]


@dataclass(frozen=True)
class PaddingCollator:
    """Makes a batch: input ids, labels and attention mask, right-padded to the batch's longest example.

    Padding is on the right, after the text, so with a causal mask no real token attends to a pad and
    the losses are those of the unpadded examples; pads are masked out of attention and of the loss.
    """

    pad_token_id: int

    def __call__(self, batch: Sequence[TokenizedExample]) -> dict[str, torch.Tensor]:
        """The batch's tensors, shaped (examples, longest)."""
        longest = max(len(e.input_ids) for e in batch)
        input_ids = torch.full((len(batch), longest), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(batch), longest), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), longest), dtype=torch.long)
        for i, example in enumerate(batch):
            length = len(example.input_ids)
            input_ids[i, :length] = torch.tensor(example.input_ids, dtype=torch.long)
            labels[i, :length] = torch.tensor(example.labels, dtype=torch.long)
            attention_mask[i, :length] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}


def pad_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The tokenizer's pad token, else its end token: pads are masked out, so any id does."""
    token = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if token is None:
        raise ValueError("the tokenizer has neither a pad nor an end-of-sequence token")
    return int(token)
