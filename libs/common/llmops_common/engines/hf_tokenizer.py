"""The base model's Hugging Face tokenizer behind the `ChatTokenizer` interface; both engines use it."""

from __future__ import annotations

from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

from ..models.loading import load_tokenizer


class HFChatTokenizer:
    """Renders chats with the model's own chat template and counts tokens the way the engines encode."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.hf = tokenizer

    @classmethod
    def from_pretrained(cls, model: str) -> HFChatTokenizer:
        """The tokenizer of a model folder, hub id or GGUF file."""
        return cls(load_tokenizer(model))

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        """The prompt text for `messages`, ending where the assistant's answer starts."""
        rendered = self.hf.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        return str(rendered)

    def encode(self, text: str) -> list[int]:
        """A prompt's token ids, as vLLM encodes a text prompt (special tokens added if the model adds any)."""
        return list(self.hf.encode(text))

    def count_tokens(self, text: str) -> int:
        """Tokens that `text` takes as a prompt."""
        return len(self.encode(text))

    def decode(self, token_ids: Sequence[int]) -> str:
        """Generated tokens as text, without special tokens."""
        return str(self.hf.decode(list(token_ids), skip_special_tokens=True))

    @property
    def eos_token_ids(self) -> frozenset[int]:
        """Tokens that end a generation."""
        return frozenset({self.hf.eos_token_id} if self.hf.eos_token_id is not None else set())
